// Every writer is atomic: a failed write names the path, leaves no temporary file, and an existing
// output is replaced only by a complete new one.

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "core/io/file_checksum.h"
#include "core/media/media_error.h"
#include "core/media/mp4_writer.h"
#include "core/media/png_writer.h"
#include "core/media/video_output.h"
#include "core/media/y4m_writer.h"
#include "tests/media/synthetic_video.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void expect_error_naming(const std::function<void()>& write, const std::filesystem::path& path) {
  try {
    write();
    FAIL() << "expected a UserError for " << path;
  } catch (const UserError& error) {
    EXPECT_NE(std::string(error.what()).find(path.string()), std::string::npos) << error.what();
  }
}

// The parent "folder" is a regular file, so nothing can be created below it (even as root).
TEST(AtomicOutput, UnwritableFolderNamesThePathAndLeavesNothing) {
  const auto dir = test::scratch_dir("atomic_unwritable");
  std::ofstream(dir / "blocker") << "a file, not a folder";
  const auto below = dir / "blocker";
  const Video video = test::moving_gradient(2, 8, 8);
  const uint8_t* rgb = video.frame(0);

  expect_error_naming([&] { write_y4m(video, below / "a.y4m"); }, below / "a.y4m");
  expect_error_naming([&] { write_png(below / "a.png", rgb, 8, 8); }, below / "a.png");
  expect_error_naming([&] { write_png_frames(video, below / "frames"); }, below / "frames");
  expect_error_naming([&] { write_video(video, below / "a.mp4", false); }, below / "a.y4m");
  if (mp4_supported()) {
    expect_error_naming([&] { write_mp4(video, below / "a.mp4"); }, below / "a.mp4");
  }
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"blocker"});
}

TEST(AtomicOutput, ExistingFileReplacedOnlyOnSuccess) {
  const auto dir = test::scratch_dir("atomic_replace");
  const Video video = test::moving_gradient(3, 16, 16);

  std::ofstream(dir / "out.y4m") << "old";
  EXPECT_THROW(write_y4m(Video{}, dir / "out.y4m"), MediaError);
  EXPECT_EQ(read_file(dir / "out.y4m"), "old");
  write_y4m(video, dir / "out.y4m");
  EXPECT_TRUE(read_file(dir / "out.y4m").starts_with("YUV4MPEG2 "));

  if (mp4_supported()) {
    std::ofstream(dir / "out.mp4") << "old";
    EXPECT_THROW(write_mp4(Video{}, dir / "out.mp4"), MediaError);
    EXPECT_EQ(read_file(dir / "out.mp4"), "old");
    // Fails inside the encoder, after the temporary file exists.
    Video unstorable_rate = video;
    unstorable_rate.fps = 1e-9;
    EXPECT_THROW(write_mp4(unstorable_rate, dir / "out.mp4"), MediaError);
    EXPECT_EQ(read_file(dir / "out.mp4"), "old");
    write_mp4(video, dir / "out.mp4");
    EXPECT_EQ(read_file(dir / "out.mp4").substr(4, 4), "ftyp");
  }
  EXPECT_EQ(names_in(dir).size(), mp4_supported() ? 2u : 1u);  // no temporaries left
}

// A video's checksum comes from its writer, taken before the rename: it is the checksum of the bytes
// this write produced, whatever the path holds later (run_record.h).
TEST(AtomicOutput, WrittenVideosCarryTheirOwnChecksum) {
  const auto dir = test::scratch_dir("atomic_checksum");
  const Video video = test::moving_gradient(3, 16, 16);
  const Video other = test::moving_gradient(3, 16, 18);
  std::vector<std::filesystem::path> files = {dir / "a.y4m"};
  if (mp4_supported()) files.push_back(dir / "a.mp4");
  for (const std::filesystem::path& file : files) {
    const VideoOutputResult written = write_video(video, file);
    ASSERT_EQ(written.path, file);
    EXPECT_TRUE(written.checksum.starts_with("fnv1a64:")) << written.checksum;
    EXPECT_EQ(std::optional<std::string>(written.checksum), file_checksum(file)) << file;
    // Another writer of the same name: the first result still names its own bytes.
    const VideoOutputResult replaced = write_video(other, file);
    EXPECT_NE(replaced.checksum, written.checksum) << file;
    EXPECT_EQ(std::optional<std::string>(replaced.checksum), file_checksum(file)) << file;
  }
  // The Y4M a build without MP4 writes instead carries its checksum too.
  const VideoOutputResult fallback = write_video(video, dir / "b.mp4", false);
  EXPECT_EQ(fallback.path, dir / "b.y4m");
  EXPECT_EQ(std::optional<std::string>(fallback.checksum), file_checksum(dir / "b.y4m"));
  EXPECT_TRUE(write_video(video, dir / "frames/").checksum.empty());  // a folder has none
}

TEST(AtomicOutput, EmptyOrInconsistentVideosAreMediaErrors) {
  const auto dir = test::scratch_dir("atomic_shapes");
  Video zero_size{2, 0, 8, 16.0, {}};
  Video short_buffer = test::moving_gradient(2, 8, 8);
  short_buffer.rgb.pop_back();
  Video no_rate = test::moving_gradient(2, 8, 8);
  no_rate.fps = 0;
  for (const Video* video : {&zero_size, &short_buffer, &no_rate}) {
    EXPECT_THROW(write_y4m(*video, dir / "a.y4m"), MediaError);
    EXPECT_THROW(write_png_frames(*video, dir / "frames"), MediaError);
    if (mp4_supported()) {
      EXPECT_THROW(write_mp4(*video, dir / "a.mp4"), MediaError);
    }
  }
  try {
    write_y4m(Video{}, dir / "a.y4m");
  } catch (const MediaError& error) {
    EXPECT_NE(std::string(error.what()).find("no frames"), std::string::npos);
  }
  EXPECT_TRUE(names_in(dir).empty());
}

}  // namespace
}  // namespace svgear
