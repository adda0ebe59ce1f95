#include "core/media/frame_archive.h"

#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "core/media/media_error.h"
#include "tests/media/synthetic_video.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Every byte comes back: noise (which deflate cannot shrink) and smooth frames, odd sizes, one frame.
TEST(FrameArchive, KeepsEveryByteOfAwkwardVideos) {
  const auto dir = test::scratch_dir("frame_archive_round_trip");
  std::mt19937 random(7);
  Video noise{3, 7, 5, 12.5, {}};
  noise.rgb.resize(noise.frame_bytes() * 3);
  for (uint8_t& byte : noise.rgb) byte = uint8_t(random());
  for (const Video& video : {noise, test::moving_gradient(1, 1, 1), test::moving_gradient(9, 33, 47, 24.0)}) {
    write_frame_archive(video, dir / "v.frames");
    const Video back = read_frame_archive(dir / "v.frames");
    EXPECT_EQ(back.frames, video.frames);
    EXPECT_EQ(back.height, video.height);
    EXPECT_EQ(back.width, video.width);
    EXPECT_EQ(back.fps, video.fps);
    EXPECT_TRUE(back.rgb == video.rgb);
  }
  const Video smooth = test::moving_gradient(9, 64, 64);
  write_frame_archive(smooth, dir / "smooth.frames");
  EXPECT_LT(std::filesystem::file_size(dir / "smooth.frames"), smooth.rgb.size());  // deflated
}

TEST(FrameArchive, RefusesTruncatedDamagedAndForeignFiles) {
  const auto dir = test::scratch_dir("frame_archive_damage");
  write_frame_archive(test::moving_gradient(4, 16, 24), dir / "v.frames");
  const std::string whole = read_bytes(dir / "v.frames");
  const auto refused = [&](const std::string& bytes) {
    write_bytes(dir / "bad.frames", bytes);
    EXPECT_THROW(read_frame_archive(dir / "bad.frames"), MediaError) << bytes.size() << " bytes";
  };
  for (size_t cut : {size_t(0), size_t(5), size_t(20), size_t(31), size_t(36), whole.size() / 2, whole.size() - 1}) {
    refused(whole.substr(0, cut));
  }
  std::string flipped = whole;
  flipped[whole.size() - 10] ^= 0x40;  // inside the last frame's stream: its checksum fails
  refused(flipped);
  refused(whole + "x");
  std::string foreign = whole;
  foreign[0] = 'X';
  refused(foreign);
  EXPECT_THROW(read_frame_archive(dir / "missing.frames"), MediaError);
}

// A header may claim anything: the bound is checked before a frame is read, and a claim the file
// cannot back ends at its end, with only the frames that exist ever allocated.
TEST(FrameArchive, AHeadersClaimsAreBounded) {
  const auto dir = test::scratch_dir("frame_archive_bounds");
  const Video video = test::moving_gradient(4, 16, 24);
  write_frame_archive(video, dir / "v.frames");
  EXPECT_THROW(read_frame_archive(dir / "v.frames", video.rgb.size() - 1), MediaError);
  EXPECT_EQ(read_frame_archive(dir / "v.frames", video.rgb.size()).frames, 4);

  std::string claims = read_bytes(dir / "v.frames");
  const int32_t many = 2'000'000'000, side = 16384;
  claims.replace(8, 4, reinterpret_cast<const char*>(&many), 4);
  write_bytes(dir / "many.frames", claims);
  EXPECT_THROW(read_frame_archive(dir / "many.frames"), MediaError);  // frame 4's count is missing
  claims.replace(12, 4, reinterpret_cast<const char*>(&side), 4);
  claims.replace(16, 4, reinterpret_cast<const char*>(&side), 4);
  write_bytes(dir / "huge.frames", claims);
  EXPECT_THROW(read_frame_archive(dir / "huge.frames", size_t(1) << 30), MediaError);
  const int32_t too_wide = 16385;
  claims.replace(16, 4, reinterpret_cast<const char*>(&too_wide), 4);
  write_bytes(dir / "wide.frames", claims);
  EXPECT_THROW(read_frame_archive(dir / "wide.frames"), MediaError);
}

}  // namespace
}  // namespace svgear
