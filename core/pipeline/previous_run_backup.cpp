#include "core/pipeline/previous_run_backup.h"

#include <system_error>

#include "core/io/unique_name.h"
#include "core/pipeline/run_record.h"

namespace svgear {

PreviousRunBackup::PreviousRunBackup(const std::filesystem::path& video) : video_(video) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(video, ec)) return;
  for (const std::filesystem::path& file : {video, run_record_path(video)}) {
    if (std::filesystem::symlink_status(file, ec).type() != std::filesystem::file_type::regular) continue;
    // An atomic write's temporary name: the next write to `file` removes it should this process die.
    std::filesystem::path link = file;
    link += ".tmp-" + unique_name_suffix();
    std::filesystem::create_hard_link(file, link, ec);
    if (!ec) kept_.emplace_back(file, link);
  }
}

PreviousRunBackup::~PreviousRunBackup() {
  std::error_code ec;
  for (const auto& [file, link] : kept_) std::filesystem::remove(link, ec);
}

std::filesystem::path PreviousRunBackup::restore() {
  if (kept_.empty()) return {};
  std::error_code ec;
  std::filesystem::path aside;
  for (int n = 1;; ++n) {
    aside = video_.parent_path() / (video_.stem().string() + "-unrecorded" + (n > 1 ? "-" + std::to_string(n) : "") +
                                    video_.extension().string());
    if (rename_without_replacing(video_, aside, ec) || ec) break;
  }
  if (ec) return {};  // the new video stays where it is, the earlier one's links are dropped
  for (const auto& [file, link] : kept_) std::filesystem::rename(link, file, ec);
  kept_.clear();
  return aside;
}

}  // namespace svgear
