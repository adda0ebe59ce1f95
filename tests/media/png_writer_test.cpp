// PNG writer: the bytes are a valid PNG (signature, IHDR, CRCs) whose pixels decode exactly.

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <sys/resource.h>

#include "core/media/media_error.h"
#include "core/media/png_writer.h"
#include "core/user_error.h"
#include "tests/media/synthetic_video.h"
#include "tests/support/png_reader.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST(PngWriter, EncodesExactPixels) {
  const Video video = test::moving_gradient(3, 25, 33);
  for (int f = 0; f < video.frames; ++f) {
    const test::PngImage png = test::decode_png(encode_png(video.frame(f), video.height, video.width));
    EXPECT_EQ(png.chunks, (std::vector<std::string>{"IHDR", "tEXt", "IDAT", "IEND"}));
    EXPECT_EQ(png.width, 33);
    EXPECT_EQ(png.height, 25);
    EXPECT_EQ(png.rgb, std::vector<uint8_t>(video.frame(f), video.frame(f) + video.frame_bytes()));
  }
}

TEST(PngWriter, OnePixelAndExtremeValues) {
  const uint8_t pixel[3] = {0, 255, 128};
  const test::PngImage png = test::decode_png(encode_png(pixel, 1, 1));
  EXPECT_EQ(png.rgb, (std::vector<uint8_t>{0, 255, 128}));
}

// Our PNGs say so in a text chunk, which tells them from a user's PNG an output would replace.
TEST(PngWriter, ItsPngsNameTheirSoftware) {
  const auto dir = test::scratch_dir("png_software");
  const uint8_t pixel[3] = {1, 2, 3};
  write_png(dir / "ours.png", pixel, 1, 1);
  EXPECT_TRUE(is_svgear_png(dir / "ours.png"));
  const std::string ours = encode_png(pixel, 1, 1);
  EXPECT_NE(ours.find(std::string("tEXtSoftware\0svgear", 19)), std::string::npos);
  // The same image without the chunk (another program's), a text file, a missing file: not ours.
  const size_t text_at = 8 + 25, text_bytes = 12 + 15;
  std::ofstream(dir / "theirs.png", std::ios::binary) << ours.substr(0, text_at) + ours.substr(text_at + text_bytes);
  std::ofstream(dir / "notes.png") << "my notes";
  for (const char* name : {"theirs.png", "notes.png", "missing.png"}) EXPECT_FALSE(is_svgear_png(dir / name)) << name;
}

TEST(PngWriter, RejectsEmptySize) {
  const uint8_t pixel[3] = {};
  EXPECT_THROW(encode_png(pixel, 0, 4), MediaError);
  EXPECT_THROW(encode_png(pixel, 4, -1), MediaError);
}

TEST(PngWriter, WritesNumberedFramesAndRemovesStaleOnes) {
  const auto folder = test::scratch_dir("png_frames") / "clip";
  const auto older = write_png_frames(test::moving_gradient(5, 8, 8), folder);
  ASSERT_EQ(older.size(), 5u);
  std::ofstream(folder / "notes.txt") << "kept";

  const Video video = test::moving_gradient(3, 12, 10);
  const auto paths = write_png_frames(video, folder);
  ASSERT_EQ(paths.size(), 3u);
  for (int f = 0; f < 3; ++f) {
    EXPECT_EQ(paths[f], folder / ("frame_000" + std::to_string(f) + ".png"));
    const test::PngImage png = test::read_png(paths[f]);
    EXPECT_EQ(png.rgb, std::vector<uint8_t>(video.frame(f), video.frame(f) + video.frame_bytes()));
  }
  EXPECT_FALSE(std::filesystem::exists(folder / "frame_0003.png"));
  EXPECT_FALSE(std::filesystem::exists(folder / "frame_0004.png"));
  EXPECT_TRUE(std::filesystem::exists(folder / "notes.txt"));
}

// A write that fails part-way (here a file-size limit, as a full disk would fail it) leaves the
// frames of the video written there before as they were: new frames go to a staging folder first.
TEST(PngWriterDeathTest, AFailedWriteKeepsTheEarlierFrames) {
  const auto folder = test::scratch_dir("png_failed") / "clip";
  write_png_frames(test::moving_gradient(3, 8, 8), folder);
  const std::string first = read_file(folder / "frame_0000.png");
  // Three frames that compress well, then one of noise (a ~12 KB PNG) that cannot be written.
  Video noise = test::moving_gradient(4, 64, 64);
  std::mt19937 random(7);
  for (size_t i = 0; i < noise.frame_bytes(); ++i) noise.frame(3)[i] = uint8_t(random());
  // In a child process, files past 8 KB cannot be written (SIGXFSZ ignored: write() fails EFBIG).
  const auto write_under_a_size_limit = [&] {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit;
    limit.rlim_cur = limit.rlim_max = 8192;
    setrlimit(RLIMIT_FSIZE, &limit);
    try {
      write_png_frames(noise, folder);
    } catch (const UserError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      std::_Exit(3);
    }
    std::_Exit(0);
  };
  // The error names the frame where it was asked for, not the hidden staging folder it went to.
  EXPECT_EXIT(write_under_a_size_limit(), ::testing::ExitedWithCode(3), "writing '[^']*/clip/frame_0003\\.png' failed");
  EXPECT_EQ(read_file(folder / "frame_0000.png"), first);
  EXPECT_TRUE(std::filesystem::exists(folder / "frame_0002.png"));
  EXPECT_FALSE(std::filesystem::exists(folder / "frame_0003.png"));
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    EXPECT_NE(entry.path().filename().string().rfind(".staging", 0), 0u) << "left behind: " << entry.path();
  }
}

TEST(PngWriter, EmptyVideoIsAnError) {
  const auto folder = test::scratch_dir("png_empty") / "clip";
  EXPECT_THROW(write_png_frames(Video{}, folder), MediaError);
  EXPECT_FALSE(std::filesystem::exists(folder));
}

}  // namespace
}  // namespace svgear
