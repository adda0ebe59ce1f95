#include "core/pipeline/previous_run_backup.h"

#include <system_error>

#include "core/io/unique_name.h"
#include "core/pipeline/run_record.h"

namespace svgear {

PreviousRunBackup::PreviousRunBackup(const std::filesystem::path& video) : video_(video) {
  std::error_code ec;
  // The video itself a file (not a link, not a PNG folder), or nothing is kept: a record put back
  // without its video would describe nothing.
  if (std::filesystem::symlink_status(video, ec).type() != std::filesystem::file_type::regular) return;
  had_earlier_ = true;
  for (const std::filesystem::path& file : {video, run_record_path(video)}) {
    if (file != video && std::filesystem::symlink_status(file, ec).type() != std::filesystem::file_type::regular) {
      continue;  // an earlier video without a record of its own
    }
    // An atomic write's temporary name: the next write to `file` removes it should this process die.
    std::filesystem::path link = file;
    link += ".tmp-" + unique_name_suffix();
    std::filesystem::create_hard_link(file, link, ec);
    if (ec) {  // protected hard links, a file system without them: keep nothing
      for (const auto& [original, kept] : kept_) std::filesystem::remove(kept, ec);
      kept_.clear();
      return;
    }
    kept_.emplace_back(file, link);
  }
}

PreviousRunBackup::~PreviousRunBackup() {
  std::error_code ec;
  for (const auto& [file, link] : kept_) std::filesystem::remove(link, ec);  // gone already once renamed back
}

PreviousRunBackup::Restored PreviousRunBackup::restore() {
  Restored restored;
  restored.had_earlier = had_earlier_;
  std::error_code ec;
  // Only a file the run wrote: not a PNG folder, nor a link no video replaced.
  if (std::filesystem::symlink_status(video_, ec).type() != std::filesystem::file_type::regular) return restored;
  for (int n = 1;; ++n) {
    restored.aside = video_.parent_path() / (video_.stem().string() + "-unrecorded" +
                                             (n > 1 ? "-" + std::to_string(n) : "") + video_.extension().string());
    if (rename_without_replacing(video_, restored.aside, ec) || ec) break;
  }
  if (ec) {
    restored.aside.clear();
    return restored;
  }
  restored.earlier_back = !kept_.empty();
  restored.with_record = kept_.size() == 2;
  for (const auto& [file, link] : kept_) {
    std::filesystem::rename(link, file, ec);
    if (ec) restored.earlier_back = false;
  }
  return restored;
}

}  // namespace svgear
