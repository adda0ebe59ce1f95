// PreviousRunBackup puts an earlier run's video and record back when the new record fails, and the
// new video beside them; it keeps nothing it could only put back in part.

#include "core/pipeline/previous_run_backup.h"

#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/test_paths.h"

namespace svgear {
namespace {

void write(const std::filesystem::path& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int files_in(const std::filesystem::path& folder) {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder)) ++n;
  return n;
}

TEST(PreviousRunBackup, PutsTheEarlierPairBackAndTheNewVideoBeside) {
  const auto dir = test::scratch_dir("previous_run_pair");
  write(dir / "clip.mp4", "earlier video");
  write(dir / "clip.json", "earlier record");
  {
    PreviousRunBackup backup(dir / "clip.mp4");
    write(dir / "clip.mp4.tmp", "new video");  // as the atomic writer replaces it: a new file renamed over
    std::filesystem::rename(dir / "clip.mp4.tmp", dir / "clip.mp4");
    std::filesystem::remove(dir / "clip.json");  // write_run_record's failure takes the old record
    write(dir / "clip-unrecorded.mp4", "a user's");  // taken: the next free name is used
    const PreviousRunBackup::Restored restored = backup.restore();
    EXPECT_EQ(restored.aside, dir / "clip-unrecorded-2.mp4");
    EXPECT_TRUE(restored.had_earlier);
    EXPECT_TRUE(restored.earlier_back);
    EXPECT_TRUE(restored.with_record);
  }
  EXPECT_EQ(read(dir / "clip.mp4"), "earlier video");
  EXPECT_EQ(read(dir / "clip.json"), "earlier record");
  EXPECT_EQ(read(dir / "clip-unrecorded-2.mp4"), "new video");
  EXPECT_EQ(read(dir / "clip-unrecorded.mp4"), "a user's");
  EXPECT_EQ(files_in(dir), 4) << "links left behind";
}

TEST(PreviousRunBackup, AVideoWithoutARecordComesBackAlone) {
  const auto dir = test::scratch_dir("previous_run_video");
  write(dir / "clip.y4m", "earlier video");
  {
    PreviousRunBackup backup(dir / "clip.y4m");
    write(dir / "clip.y4m.tmp", "new video");
    std::filesystem::rename(dir / "clip.y4m.tmp", dir / "clip.y4m");
    const PreviousRunBackup::Restored restored = backup.restore();
    EXPECT_EQ(restored.aside, dir / "clip-unrecorded.y4m");
    EXPECT_TRUE(restored.earlier_back);
    EXPECT_FALSE(restored.with_record);
  }
  EXPECT_EQ(read(dir / "clip.y4m"), "earlier video");
  EXPECT_EQ(files_in(dir), 2);
}

// Nothing to put back: no earlier video, or one that is a link (its record alone would describe
// nothing). A new video still leaves the name asked for, which no record describes (a script
// checking for the file would take it for a whole run); a link nothing replaced stays, and the
// links go when the backup does.
TEST(PreviousRunBackup, KeepsNothingWithoutAnEarlierVideoFile) {
  const auto dir = test::scratch_dir("previous_run_none");
  {
    PreviousRunBackup backup(dir / "new.mp4");
    write(dir / "new.mp4", "new video");
    const PreviousRunBackup::Restored restored = backup.restore();
    EXPECT_EQ(restored.aside, dir / "new-unrecorded.mp4");
    EXPECT_FALSE(restored.had_earlier);
    EXPECT_FALSE(restored.earlier_back);
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "new.mp4"));
  std::filesystem::rename(dir / "new-unrecorded.mp4", dir / "new.mp4");
  write(dir / "target.mp4", "elsewhere");
  std::filesystem::create_symlink("target.mp4", dir / "linked.mp4");
  write(dir / "linked.json", "earlier record");
  {
    PreviousRunBackup backup(dir / "linked.mp4");
    EXPECT_TRUE(backup.restore().aside.empty());
  }
  EXPECT_EQ(files_in(dir), 4);
  {
    PreviousRunBackup unused(dir / "target.mp4");  // made and dropped: its links go with it
  }
  EXPECT_EQ(files_in(dir), 4);
}

}  // namespace
}  // namespace svgear
