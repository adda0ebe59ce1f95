// MP4 writer: what read_video (and the container) report matches what went in.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "core/media/media_error.h"
#include "core/media/mp4_writer.h"
#include "core/media/video_reader.h"
#include "svgear/build_config.h"
#include "tests/media/synthetic_video.h"
#include "tests/support/test_paths.h"

#if SVGEAR_HAVE_FFMPEG
extern "C" {
#include <libavformat/avformat.h>
}
#endif

namespace svgear {
namespace {

#define SKIP_WITHOUT_MP4() \
  if (!mp4_supported()) GTEST_SKIP() << "built without FFmpeg"

// Every decoded frame is closest to the source frame of the same index.
void expect_frames_in_order(const Video& source, const Video& decoded) {
  for (int f = 0; f < decoded.frames; ++f) {
    int best = 0;
    for (int g = 1; g < source.frames; ++g) {
      if (test::frame_mse(source, g, decoded, f) < test::frame_mse(source, best, decoded, f)) {
        best = g;
      }
    }
    EXPECT_EQ(best, f) << "decoded frame " << f << " looks like source frame " << best;
  }
}

TEST(Mp4Writer, SupportMatchesBuild) { EXPECT_EQ(mp4_supported(), bool(SVGEAR_HAVE_FFMPEG)); }

TEST(Mp4Writer, RoundTripKeepsFramesSizeRateAndQuality) {
  SKIP_WITHOUT_MP4();
  const Video source = test::moving_gradient(17, 48, 64, 16.0);
  const auto path = test::scratch_dir("mp4_round_trip") / "out.mp4";
  write_mp4(source, path);
  const Video decoded = read_video(path);
  ASSERT_EQ(decoded.frames, 17);
  EXPECT_EQ(decoded.height, 48);
  EXPECT_EQ(decoded.width, 64);
  EXPECT_DOUBLE_EQ(decoded.fps, 16.0);
  const double db = test::psnr(source, decoded);
  std::printf("PSNR 64x48 crf 18: %.2f dB\n", db);
  EXPECT_GT(db, 35.0);
  expect_frames_in_order(source, decoded);
  // A reader's memory bound: 17 frames fit exactly, one byte less fails as the last is decoded.
  const size_t bytes = decoded.rgb.size();
  EXPECT_EQ(read_video(path, nullptr, bytes).frames, 17);
  EXPECT_THROW(read_video(path, nullptr, bytes - 1), MediaError);
}

// A relative name with a colon before any slash ("12:30.mp4") is a file, not FFmpeg's protocol "12".
TEST(Mp4Writer, ANameWithAColonIsAFile) {
  SKIP_WITHOUT_MP4();
  const Video source = test::moving_gradient(3, 16, 16, 8.0);
  const auto dir = test::scratch_dir("mp4_colon");
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  write_mp4(source, "12:30.mp4");
  const Video decoded = read_video("12:30.mp4");
  std::filesystem::current_path(previous);
  EXPECT_EQ(decoded.frames, 3);
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "12:30.mp4"));
}

TEST(Mp4Writer, OddSizeIsPaddedByEdgeReplication) {
  SKIP_WITHOUT_MP4();
  const Video source = test::moving_gradient(17, 25, 33, 24000.0 / 1001.0);
  const auto path = test::scratch_dir("mp4_odd") / "odd.mp4";
  write_mp4(source, path);
  const Video decoded = read_video(path);
  ASSERT_EQ(decoded.frames, 17);
  EXPECT_EQ(decoded.height, 26);
  EXPECT_EQ(decoded.width, 34);
  EXPECT_NEAR(decoded.fps, 24000.0 / 1001.0, 1e-9);
  const double db = test::psnr(source, decoded);
  std::printf("PSNR 33x25 crf 18: %.2f dB\n", db);
  EXPECT_GT(db, 35.0);
  expect_frames_in_order(source, decoded);
  // The padding repeats the edge: the extra column matches the last real one.
  const Video& d = decoded;
  double diff = 0;
  for (int y = 6; y < 25; ++y) {
    for (int c = 0; c < 3; ++c) {
      diff += std::abs(d.frame(8)[(y * 34 + 33) * 3 + c] - d.frame(8)[(y * 34 + 32) * 3 + c]);
    }
  }
  EXPECT_LT(diff / (19 * 3), 6.0);
}

TEST(Mp4Writer, EveryFramePresentWithFullDuration) {
  SKIP_WITHOUT_MP4();
  const auto dir = test::scratch_dir("mp4_counts");
  for (int frames : {1, 2, 16, 81}) {
    for (bool faststart : {true, false}) {
      SCOPED_TRACE(std::to_string(frames) + " frames, faststart " + std::to_string(faststart));
      const Video source = test::moving_gradient(frames, 32, 48, 16.0);
      const auto path = dir / ("n" + std::to_string(frames) + ".mp4");
      write_mp4(source, path, {.crf = 23, .preset = "veryfast", .faststart = faststart});
      const Video decoded = read_video(path);
      EXPECT_EQ(decoded.frames, frames);
      EXPECT_DOUBLE_EQ(decoded.fps, 16.0);
      expect_frames_in_order(source, decoded);
#if SVGEAR_HAVE_FFMPEG
      // What ffprobe reports: sample count and a duration that includes the last frame.
      AVFormatContext* format = nullptr;
      ASSERT_EQ(avformat_open_input(&format, path.c_str(), nullptr, nullptr), 0);
      ASSERT_GE(avformat_find_stream_info(format, nullptr), 0);
      const AVStream* stream = format->streams[0];
      EXPECT_EQ(stream->nb_frames, frames);
      EXPECT_NEAR(double(stream->duration) * av_q2d(stream->time_base), frames / 16.0, 1e-6);
      EXPECT_EQ(stream->start_time, 0);
      avformat_close_input(&format);
#endif
    }
  }
}

TEST(Mp4Writer, RejectsBadOptions) {
  SKIP_WITHOUT_MP4();
  const Video source = test::moving_gradient(2, 16, 16);
  const auto path = test::scratch_dir("mp4_options") / "out.mp4";
  EXPECT_THROW(write_mp4(source, path, {.crf = 60}), MediaError);
  try {
    write_mp4(source, path, {.preset = "turbo"});
    FAIL() << "expected MediaError";
  } catch (const MediaError& error) {
    EXPECT_NE(std::string(error.what()).find("unknown x264 preset 'turbo'"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Mp4Writer, WithoutFfmpegSaysWhatStillWorks) {
  if (mp4_supported()) GTEST_SKIP() << "built with FFmpeg";
  try {
    write_mp4(test::moving_gradient(2, 16, 16), test::scratch_dir("mp4_none") / "out.mp4");
    FAIL() << "expected MediaError";
  } catch (const MediaError& error) {
    EXPECT_NE(std::string(error.what()).find("FFmpeg is not available"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("PNG"), std::string::npos);
  }
}

}  // namespace
}  // namespace svgear
