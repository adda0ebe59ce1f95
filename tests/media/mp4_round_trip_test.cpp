// MP4 writer: what read_video (and the container) report matches what went in.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "core/media/media_error.h"
#include "core/media/mp4_writer.h"
#include "core/media/video_output.h"
#include "core/media/video_reader.h"
#include "svgear/build_config.h"
#include "tests/media/synthetic_video.h"
#include "tests/support/test_paths.h"

#if SVGEAR_HAVE_FFMPEG
extern "C" {
#include <libavcodec/avcodec.h>
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

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
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
  // Decoded as the ffmpeg command does (its chroma upsampling is coarser than the writer's
  // downsampling): ~34.4 dB here, ~39 with swscale's accurate interpolation.
  EXPECT_GT(db, 32.0);
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
  EXPECT_GT(db, 32.0);
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
  // write_video says so: the record and messages name the clip's size, players the MP4's.
  EXPECT_EQ(write_video(source, path).note,
            "the MP4 is 34×26: H.264 in 4:2:0 takes even sides, so the 33×25 clip's last column or row is repeated (a "
            ".y4m or PNG frames keep its size)");
  EXPECT_EQ(write_video(test::moving_gradient(2, 24, 32, 24.0), path).note, "");

  // Cropped back to the size written: the decoded frames less the padding column and row.
  Video cropped = decoded;
  crop_mp4_padding(cropped, 25, 33);
  ASSERT_EQ(cropped.height, 25);
  ASSERT_EQ(cropped.width, 33);
  ASSERT_EQ(cropped.rgb.size(), source.rgb.size());
  for (int f = 0; f < 17; ++f) {
    for (int y = 0; y < 25; ++y) {
      ASSERT_TRUE(std::equal(cropped.frame(f) + y * 33 * 3, cropped.frame(f) + (y + 1) * 33 * 3,
                             decoded.frame(f) + y * 34 * 3))
          << "frame " << f << " row " << y;
    }
  }
  // Only write_mp4's padding is dropped: another size stays for the caller's size check to see.
  Video other = decoded;
  crop_mp4_padding(other, 24, 33);
  EXPECT_EQ(other.height, 26);
  crop_mp4_padding(other, 26, 34);
  EXPECT_EQ(other.rgb, decoded.rgb);
}

// The same frames make the same file: compare's decoded PSNR between two identical runs is then
// infinite, not ~42 dB. glibc's M_PERTURB fills fresh and freed blocks with a byte, as
// MALLOC_PERTURB_ does, so an encoder that reads memory before writing it shows here (x264's
// AVX-512 mb-tree code did, on CPUs that have AVX-512).
TEST(Mp4Writer, SameFramesMakeTheSameFile) {
  SKIP_WITHOUT_MP4();
  const Video source = test::sky_scene(17, 144, 176);
  const auto dir = test::scratch_dir("mp4_same_bytes");
  std::string first;
  for (int perturb : {0, 1, 85, 170, 0, 0}) {
#if defined(__GLIBC__)
    mallopt(M_PERTURB, perturb);
#endif
    write_mp4(source, dir / "clip.mp4");
#if defined(__GLIBC__)
    mallopt(M_PERTURB, 0);
#endif
    const std::string bytes = file_bytes(dir / "clip.mp4");
    ASSERT_FALSE(bytes.empty());
    if (first.empty()) {
      first = bytes;
    } else {
      EXPECT_TRUE(bytes == first) << "encoded again with the heap filled with " << perturb;
    }
  }
}

#if SVGEAR_HAVE_FFMPEG
// The mean Y, Cb and Cr of every frame of `path`, as decoded (no conversion to RGB).
std::vector<std::array<double, 3>> mean_yuv_per_frame(const std::filesystem::path& path) {
  std::vector<std::array<double, 3>> means;
  AVFormatContext* format = nullptr;
  EXPECT_EQ(avformat_open_input(&format, path.c_str(), nullptr, nullptr), 0);
  if (!format) return means;
  EXPECT_GE(avformat_find_stream_info(format, nullptr), 0);
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  EXPECT_GE(stream, 0);
  const AVCodecParameters* parameters = format->streams[stream]->codecpar;
  EXPECT_EQ(parameters->format, AV_PIX_FMT_YUV420P);
  EXPECT_EQ(parameters->color_space, AVCOL_SPC_BT709);
  EXPECT_EQ(parameters->color_range, AVCOL_RANGE_MPEG);
  AVCodecContext* decoder = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(decoder, parameters);
  EXPECT_EQ(avcodec_open2(decoder, codec, nullptr), 0);
  AVPacket* packet = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  const auto drain = [&] {
    while (avcodec_receive_frame(decoder, frame) == 0) {
      std::array<double, 3> mean{};
      for (int plane = 0; plane < 3; ++plane) {
        const int width = plane ? (frame->width + 1) / 2 : frame->width;
        const int height = plane ? (frame->height + 1) / 2 : frame->height;
        double sum = 0;
        for (int y = 0; y < height; ++y) {
          for (int x = 0; x < width; ++x) sum += frame->data[plane][y * frame->linesize[plane] + x];
        }
        mean[plane] = sum / (double(width) * height);
      }
      means.push_back(mean);
      av_frame_unref(frame);
    }
  };
  while (av_read_frame(format, packet) >= 0) {
    if (packet->stream_index == stream) avcodec_send_packet(decoder, packet);
    av_packet_unref(packet);
    drain();
  }
  avcodec_send_packet(decoder, nullptr);
  drain();
  av_frame_free(&frame);
  av_packet_free(&packet);
  avcodec_free_context(&decoder);
  avformat_close_input(&format);
  return means;
}

// Known colours come back as themselves, and the file holds the BT.709 limited-range values its
// tags promise: a wrong matrix or range in the writer and the same one in the reader would cancel
// out in a round trip alone, but not in what other players (and the papers' metric.py) decode.
TEST(Mp4Writer, SolidColoursKeepTheirValues) {
  SKIP_WITHOUT_MP4();
  const std::vector<std::array<int, 3>> colours = {{255, 0, 0},   {0, 255, 0},   {0, 0, 255},   {128, 128, 128},
                                                   {255, 255, 255}, {0, 0, 0}, {200, 120, 40}};
  Video source{int(colours.size()), 32, 48, 16.0, {}};
  source.rgb.resize(source.frame_bytes() * source.frames);
  for (int f = 0; f < source.frames; ++f) {
    for (size_t i = 0; i < source.frame_bytes(); ++i) source.frame(f)[i] = uint8_t(colours[f][i % 3]);
  }
  const auto path = test::scratch_dir("mp4_colours") / "colours.mp4";
  write_mp4(source, path);

  const std::vector<std::array<double, 3>> yuv = mean_yuv_per_frame(path);
  ASSERT_EQ(yuv.size(), colours.size());
  const Video decoded = read_video(path);
  ASSERT_EQ(decoded.frames, source.frames);
  for (int f = 0; f < source.frames; ++f) {
    SCOPED_TRACE("colour " + std::to_string(colours[f][0]) + "," + std::to_string(colours[f][1]) + "," +
                 std::to_string(colours[f][2]));
    // BT.709: Kr 0.2126, Kb 0.0722; limited range: Y 16..235, Cb and Cr 16..240.
    const double r = colours[f][0] / 255.0, g = colours[f][1] / 255.0, b = colours[f][2] / 255.0;
    const double luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    EXPECT_NEAR(yuv[f][0], 16 + 219 * luma, 1.5);
    EXPECT_NEAR(yuv[f][1], 128 + 224 * (b - luma) / 1.8556, 1.5);
    EXPECT_NEAR(yuv[f][2], 128 + 224 * (r - luma) / 1.5748, 1.5);
    int worst = 0;
    for (size_t i = 0; i < decoded.frame_bytes(); ++i) {
      worst = std::max(worst, std::abs(int(decoded.frame(f)[i]) - colours[f][i % 3]));
    }
    EXPECT_LE(worst, 3);
  }
}
#endif

// The papers' metric.py reads videos through imageio, i.e. the ffmpeg command's default conversion
// to RGB; read_video must decode to the same bytes, or the decoded PSNR compare reports is not the
// papers' figure (37.85 dB against their 37.38 on one compare).
TEST(VideoReader, Mp4DecodesAsTheFfmpegCommandDoes) {
  SKIP_WITHOUT_MP4();
  if (std::system("ffmpeg -version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no ffmpeg command to compare with";
  const auto dir = test::scratch_dir("mp4_as_ffmpeg");
  for (const auto& [height, width] : {std::pair(144, 176), std::pair(25, 33)}) {
    SCOPED_TRACE(std::to_string(width) + "x" + std::to_string(height));
    const Video source = test::sky_scene(9, height, width);
    write_mp4(source, dir / "clip.mp4");
    const std::string command = "ffmpeg -v error -y -i '" + (dir / "clip.mp4").string() +
                                "' -pix_fmt rgb24 -f rawvideo '" + (dir / "clip.rgb").string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const std::string reference = file_bytes(dir / "clip.rgb");
    const Video decoded = read_video(dir / "clip.mp4");
    ASSERT_EQ(reference.size(), decoded.rgb.size());
    size_t differing = 0;
    int worst = 0;
    for (size_t i = 0; i < reference.size(); ++i) {
      const int d = std::abs(int(uint8_t(reference[i])) - int(decoded.rgb[i]));
      differing += d != 0;
      worst = std::max(worst, d);
    }
    EXPECT_EQ(differing, 0u) << "of " << reference.size() << " bytes, by up to " << worst;
  }
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
