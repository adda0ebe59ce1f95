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
  // Links what is at `video` (a file, not a PNG folder or a link) and at its run record, when it has
  // one. All or nothing: where a link cannot be made (a file system without hard links, protected
  // hard links) nothing is kept, as before.
  explicit PreviousRunBackup(const std::filesystem::path& video);
  ~PreviousRunBackup();  // drops the links
  PreviousRunBackup(const PreviousRunBackup&) = delete;
  PreviousRunBackup& operator=(const PreviousRunBackup&) = delete;

  // Moves the new video (a file) aside to "<name>-unrecorded<ext>" (-2, -3, … when taken), so no
  // unrecorded video holds the name asked for, and puts the earlier files back (renames, which need
  // no space). `aside` is where it went: empty when it is no file (a PNG folder) or could not be
  // moved (it then stays where it was written).
  struct Restored {
    std::filesystem::path aside;
    bool had_earlier = false;   // an earlier video file was at the path
    bool earlier_back = false;  // every earlier file is in its place again
    bool with_record = false;   // the earlier video had its run record, which came back with it
  };
  Restored restore();

 private:
  std::filesystem::path video_;
  bool had_earlier_ = false;
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> kept_;  // (original, link)
};

}  // namespace svgear
