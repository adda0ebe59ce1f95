// Y4M writer and reader: the header FFmpeg expects, and pixels back within YUV rounding.

#include <gtest/gtest.h>

#include <fstream>

#include "core/media/media_error.h"
#include "core/media/video_reader.h"
#include "core/media/y4m_writer.h"
#include "tests/media/synthetic_video.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

std::string first_line(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  std::getline(in, line);
  return line;
}

int max_abs_diff(const Video& a, const Video& b) {
  int worst = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) worst = std::max(worst, std::abs(a.rgb[i] - b.rgb[i]));
  return worst;
}

TEST(Y4m, RoundTripThroughReadVideo) {
  const Video source = test::moving_gradient(17, 25, 33, 24000.0 / 1001.0);
  const auto path = test::scratch_dir("y4m_round_trip") / "clip.y4m";
  write_y4m(source, path);
  EXPECT_EQ(first_line(path), "YUV4MPEG2 W33 H25 F24000:1001 Ip A1:1 C444 XCOLORRANGE=FULL");
  EXPECT_EQ(std::filesystem::file_size(path),
            first_line(path).size() + 1 + 17 * (6 + source.frame_bytes()));

  const Video decoded = read_video(path);
  ASSERT_EQ(decoded.frames, 17);
  EXPECT_EQ(decoded.height, 25);
  EXPECT_EQ(decoded.width, 33);
  EXPECT_NEAR(decoded.fps, 24000.0 / 1001.0, 1e-12);
  EXPECT_LE(max_abs_diff(source, decoded), 2);
}

TEST(Y4m, FrameRates) {
  const auto dir = test::scratch_dir("y4m_rates");
  const std::pair<double, const char*> cases[] = {
      {16.0, "F16:1"}, {30000.0 / 1001.0, "F30000:1001"}, {12.5, "F25:2"}, {23.976, "F2997:125"}};
  for (const auto& [fps, field] : cases) {
    write_y4m(test::moving_gradient(1, 2, 2, fps), dir / "r.y4m");
    EXPECT_NE(first_line(dir / "r.y4m").find(std::string(" ") + field + " "), std::string::npos)
        << fps;
    EXPECT_NEAR(read_video(dir / "r.y4m").fps, fps, 1e-9);
  }
}

TEST(Y4m, ReadsLimitedRange420) {
  // 2x2 mid grey in the format's default layout: 4:2:0, limited range.
  const auto path = test::scratch_dir("y4m_420") / "grey.y4m";
  std::ofstream(path, std::ios::binary) << "YUV4MPEG2 W2 H2 F25:1 Ip\nFRAME\n"
                                        << std::string(4, char(126)) << char(128) << char(128);
  const Video video = read_video(path);
  ASSERT_EQ(video.frames, 1);
  EXPECT_EQ(video.fps, 25.0);
  for (uint8_t value : video.rgb) EXPECT_EQ(value, 128);  // (126 - 16) * 255 / 219 = 128.08
}

// A file's frames stop at the reader's memory bound rather than at the OOM killer.
TEST(Y4m, FramesPastTheMemoryBoundAreRefused) {
  const auto path = test::scratch_dir("y4m_bound") / "four.y4m";
  write_y4m(test::moving_gradient(4, 6, 10), path);
  const size_t frame_bytes = 6 * 10 * 3;
  EXPECT_EQ(read_video(path, nullptr, 4 * frame_bytes).frames, 4);
  try {
    read_video(path, nullptr, 4 * frame_bytes - 1);
    ADD_FAILURE() << "read past the bound";
  } catch (const MediaError& e) {
    EXPECT_NE(std::string(e.what()).find("3 frames of 10x6 so far"), std::string::npos) << e.what();
  }
}

TEST(Y4m, BrokenFilesAreMediaErrors) {
  const auto dir = test::scratch_dir("y4m_broken");
  std::ofstream(dir / "not.y4m") << "hello\n";
  EXPECT_THROW(read_video(dir / "not.y4m"), MediaError);
  std::ofstream(dir / "short.y4m", std::ios::binary) << "YUV4MPEG2 W4 H4 C444\nFRAME\nabc";
  EXPECT_THROW(read_video(dir / "short.y4m"), MediaError);
  std::ofstream(dir / "empty.y4m", std::ios::binary) << "YUV4MPEG2 W4 H4 C444\n";
  EXPECT_THROW(read_video(dir / "empty.y4m"), MediaError);
  EXPECT_THROW(read_video(dir / "missing.y4m"), MediaError);
  EXPECT_THROW(write_y4m(Video{}, dir / "out.y4m"), MediaError);
}

}  // namespace
}  // namespace svgear
