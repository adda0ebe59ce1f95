// PNG writer: the bytes are a valid PNG (signature, IHDR, CRCs) whose pixels decode exactly.

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <sys/resource.h>

#include <zlib.h>

#include "core/media/media_error.h"
#include "core/media/png_writer.h"
#include "core/user_error.h"
#include "tests/media/synthetic_video.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

uint32_t read_u32(const std::string& bytes, size_t at) {
  return uint32_t(uint8_t(bytes[at])) << 24 | uint32_t(uint8_t(bytes[at + 1])) << 16 |
         uint32_t(uint8_t(bytes[at + 2])) << 8 | uint32_t(uint8_t(bytes[at + 3]));
}

int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

struct DecodedPng {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;
};

// A minimal decoder for 8-bit RGB, non-interlaced PNGs: checks every chunk's CRC, inflates IDAT and
// undoes all five row filters.
DecodedPng decode_png(const std::string& png) {
  DecodedPng out;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::string idat;
  std::vector<std::string> chunk_types;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t length = read_u32(png, at);
    const std::string type = png.substr(at + 4, 4);
    const std::string data = png.substr(at + 8, length);
    const uint32_t crc = read_u32(png, at + 8 + length);
    EXPECT_EQ(crc, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(png.data() + at + 4),
                                  uInt(4 + length))))
        << "bad CRC in " << type;
    chunk_types.push_back(type);
    if (type == "IHDR") {
      EXPECT_EQ(length, 13u);
      out.width = int(read_u32(data, 0));
      out.height = int(read_u32(data, 4));
      EXPECT_EQ(data.substr(8), std::string("\x08\x02\x00\x00\x00", 5));  // 8-bit RGB, deflate
    }
    if (type == "IDAT") idat += data;
    at += 12 + length;
  }
  EXPECT_EQ(chunk_types, (std::vector<std::string>{"IHDR", "tEXt", "IDAT", "IEND"}));

  const size_t row_bytes = size_t(out.width) * 3;
  std::vector<uint8_t> filtered(out.height * (row_bytes + 1));
  uLongf size = uLongf(filtered.size());
  EXPECT_EQ(uncompress(filtered.data(), &size, reinterpret_cast<const Bytef*>(idat.data()),
                       uLong(idat.size())),
            Z_OK);
  EXPECT_EQ(size, filtered.size());
  out.rgb.resize(out.height * row_bytes);
  for (int y = 0; y < out.height; ++y) {
    const uint8_t filter = filtered[y * (row_bytes + 1)];
    const uint8_t* in = &filtered[y * (row_bytes + 1) + 1];
    uint8_t* row = &out.rgb[y * row_bytes];
    const uint8_t* up = y > 0 ? row - row_bytes : nullptr;
    for (size_t i = 0; i < row_bytes; ++i) {
      const int a = i >= 3 ? row[i - 3] : 0, b = up ? up[i] : 0, c = up && i >= 3 ? up[i - 3] : 0;
      const int predictor = filter == 0 ? 0
                            : filter == 1 ? a
                            : filter == 2 ? b
                            : filter == 3 ? (a + b) / 2
                                          : paeth(a, b, c);
      row[i] = uint8_t(in[i] + predictor);
    }
  }
  return out;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST(PngWriter, EncodesExactPixels) {
  const Video video = test::moving_gradient(3, 25, 33);
  for (int f = 0; f < video.frames; ++f) {
    const DecodedPng png = decode_png(encode_png(video.frame(f), video.height, video.width));
    EXPECT_EQ(png.width, 33);
    EXPECT_EQ(png.height, 25);
    EXPECT_EQ(png.rgb, std::vector<uint8_t>(video.frame(f), video.frame(f) + video.frame_bytes()));
  }
}

TEST(PngWriter, OnePixelAndExtremeValues) {
  const uint8_t pixel[3] = {0, 255, 128};
  const DecodedPng png = decode_png(encode_png(pixel, 1, 1));
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
    const DecodedPng png = decode_png(read_file(paths[f]));
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
    } catch (const UserError&) {
      std::_Exit(3);
    }
    std::_Exit(0);
  };
  EXPECT_EXIT(write_under_a_size_limit(), ::testing::ExitedWithCode(3), "");
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
