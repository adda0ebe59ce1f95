#pragma once
// PreviousRunBackup: an earlier run's video and run record at the path a new run writes, kept as
// hard links (no copy, no space) until the new pair is whole. The new video replaces the old one
// before its record is written, so a record that then fails (a full disk) had left a video that no
// record describes, and neither of the earlier run's files.

#include <filesystem>
#include <utility>
#include <vector>

namespace svgear {

class PreviousRunBackup {
 public:
  // Links what is at `video` (a file, not a PNG folder) and at its run record. Best effort: a file
  // system without hard links keeps nothing, as before.
  explicit PreviousRunBackup(const std::filesystem::path& video);
  ~PreviousRunBackup();  // drops the links
  PreviousRunBackup(const PreviousRunBackup&) = delete;
  PreviousRunBackup& operator=(const PreviousRunBackup&) = delete;

  // Puts the earlier files back (renames, which need no space), the new video moved aside first to
  // "<name>-unrecorded<ext>" (-2, -3, … when taken), and returns where it went; an empty path, and
  // nothing moved, when there was no earlier run.
  std::filesystem::path restore();

 private:
  std::filesystem::path video_;
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> kept_;  // (original, link)
};

}  // namespace svgear
