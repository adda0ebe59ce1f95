// write_video: the requested path picks the format, and a missing FFmpeg still yields output.

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include <gtest/gtest.h>

#include "core/media/media_error.h"
#include "core/media/mp4_writer.h"
#include "core/media/video_output.h"
#include "core/media/video_reader.h"
#include "tests/media/synthetic_video.h"
#include "tests/support/png_reader.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

// The studio's library reload polls a token per frame (y4m) or packet (FFmpeg); a set token stops
// the read with Cancelled (not a MediaError: nothing is wrong with the file), an unset one changes
// nothing.
TEST(VideoOutput, ACancelledTokenStopsTheReadOfEitherFormat) {
  const auto dir = test::scratch_dir("read_cancel");
  std::vector<std::filesystem::path> files = {dir / "clip.y4m"};
  if (mp4_supported()) files.push_back(dir / "clip.mp4");
  for (const std::filesystem::path& path : files) {
    write_video(test::moving_gradient(5, 16, 16, 16.0), path);
    CancelToken token;
    EXPECT_EQ(read_video(path, &token).frames, 5) << path;
    token.cancel();
    EXPECT_THROW(read_video(path, &token), Cancelled) << path;
  }
}

TEST(VideoOutput, FormatFollowsThePath) {
  EXPECT_EQ(video_format_for("out/clip.mp4"), VideoFormat::Mp4);
  EXPECT_EQ(video_format_for("CLIP.MP4"), VideoFormat::Mp4);
  EXPECT_EQ(video_format_for("clip.y4m"), VideoFormat::Y4m);
  EXPECT_EQ(video_format_for("clip.Y4M"), VideoFormat::Y4m);
  EXPECT_EQ(video_format_for("frames"), VideoFormat::PngFrames);
  EXPECT_EQ(video_format_for("out/frames.v2/"), VideoFormat::PngFrames);
  EXPECT_EQ(video_format_for("clip.avi"), VideoFormat::Unset);
  EXPECT_EQ(video_format_for("clip.gif"), VideoFormat::Unset);
}

// An unsupported type's message offers the same name as each kind the writer makes; a video's name
// with more after it offers that name (clip.mp4.json had offered clip.mp4.mp4).
TEST(VideoOutput, AnUnsupportedTypeOffersNamesThatWork) {
  const auto message = [](const std::filesystem::path& path) {
    try {
      check_video_output(path);
    } catch (const MediaError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const auto dir = test::scratch_dir("output_names");
  EXPECT_NE(message(dir / "clip.png").find("as in '" + (dir / "clip.mp4").string() + "', or a folder for PNG frames, "
                                           "one per frame: end its name with '/', as in '" + (dir / "clip/").string()),
            std::string::npos)
      << message(dir / "clip.png");
  for (const char* name : {"clip.mp4.json", "clip.Y4M.txt"}) {
    const std::filesystem::path path = dir / name;
    const std::string video = (dir / name).replace_extension().string();
    EXPECT_NE(message(path).find("as in '" + video + "', or a folder for PNG frames, one per frame: end its name with "
                                 "'/', as in '" + (dir / "clip/").string() + "'"),
              std::string::npos)
        << message(path);
  }
}

// What write_video would refuse is refused before any work, and nothing is created on the way.
TEST(VideoOutput, CheckRefusesWhatTheWriterWouldWithoutCreatingAnything) {
  const auto dir = test::scratch_dir("output_check");
  std::ofstream(dir / "a-file") << "x";
  for (const std::filesystem::path& good : {dir / "new" / "deeper" / "clip.mp4", dir / "clip.y4m", dir / "frames",
                                            dir / "new2" / "frames/"}) {
    EXPECT_NO_THROW(check_video_output(good)) << good;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "new"));
  EXPECT_FALSE(std::filesystem::exists(dir / "new2"));
  for (const std::filesystem::path& bad : {dir / "clip.avi", dir / "a-file" / "clip.mp4", dir / "a-file" / "frames",
                                           dir / "a-file" / "x" / "clip.y4m"}) {
    EXPECT_THROW(check_video_output(bad), MediaError) << bad;
  }
  // A broken link where the folder should be: the writer could not create it.
  std::filesystem::create_symlink(dir / "nowhere", dir / "dangling");
  EXPECT_THROW(check_video_output(dir / "dangling" / "clip.y4m"), MediaError);
  EXPECT_THROW(check_video_output(dir / "dangling"), MediaError);
  // A folder, or a link, by the name of the file written (an .mp4 is a .y4m without FFmpeg).
  std::filesystem::create_directories(video_output_path(dir / "taken.mp4"));
  EXPECT_THROW(check_video_output(dir / "taken.mp4"), MediaError);
  // A link by the video's name: the writer's rename would replace the link, not its target.
  std::filesystem::create_symlink(dir / "elsewhere.mp4", video_output_path(dir / "linked.mp4"));
  EXPECT_THROW(check_video_output(dir / "linked.mp4"), MediaError);
  try {
    check_video_output(dir / "a-file" / "clip.mp4");
    FAIL() << "a folder under a file must be refused";
  } catch (const MediaError& e) {
    EXPECT_NE(std::string(e.what()).find("is a file, not a folder"), std::string::npos) << e.what();
  }
}

// What each format gives back: PNG frames exactly; Y4M (4:4:4 full-range YUV) within 2 levels of
// rounding; MP4 (4:2:0 at crf 18, decoded as the ffmpeg command does) above 32 dB PSNR, the bounds
// tests/media's round-trip tests hold.
TEST(VideoOutput, WritesEachFormat) {
  const auto dir = test::scratch_dir("output_formats");
  const Video video = test::moving_gradient(4, 16, 24);
  const auto same_shape = [&](const Video& back) {
    return back.frames == video.frames && back.height == video.height && back.width == video.width;
  };

  const VideoOutputResult y4m = write_video(video, dir / "a.y4m");
  EXPECT_EQ(y4m.format, VideoFormat::Y4m);
  EXPECT_EQ(y4m.path, dir / "a.y4m");
  EXPECT_TRUE(y4m.note.empty());
  const Video y4m_back = read_video(y4m.path);
  ASSERT_TRUE(same_shape(y4m_back)) << y4m_back.frames << " frames of " << y4m_back.width << "x" << y4m_back.height;
  int worst = 0;
  for (size_t i = 0; i < video.rgb.size(); ++i) worst = std::max(worst, std::abs(video.rgb[i] - y4m_back.rgb[i]));
  EXPECT_LE(worst, 2);

  const VideoOutputResult png = write_video(video, dir / "b/");
  EXPECT_EQ(png.format, VideoFormat::PngFrames);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "b"), std::filesystem::directory_iterator()),
            video.frames);
  for (int f = 0; f < video.frames; ++f) {
    const test::PngImage frame = test::read_png(dir / "b" / ("frame_000" + std::to_string(f) + ".png"));
    ASSERT_EQ(frame.width, video.width);
    ASSERT_EQ(frame.height, video.height);
    EXPECT_TRUE(std::equal(frame.rgb.begin(), frame.rgb.end(), video.frame(f))) << "frame " << f;
  }

  if (mp4_supported()) {
    const VideoOutputResult mp4 = write_video(video, dir / "c.mp4");
    EXPECT_EQ(mp4.format, VideoFormat::Mp4);
    EXPECT_EQ(mp4.path, dir / "c.mp4");
    EXPECT_TRUE(mp4.note.empty());
    const Video mp4_back = read_video(mp4.path);
    ASSERT_TRUE(same_shape(mp4_back)) << mp4_back.frames << " frames of " << mp4_back.width << "x" << mp4_back.height;
    EXPECT_GT(test::psnr(video, mp4_back), 32.0);  // frame against frame: lost or reordered frames fall below
  }
  EXPECT_THROW(write_video(video, dir / "d.avi"), MediaError);
}

TEST(VideoOutput, Mp4WithoutFfmpegFallsBackToY4m) {
  const auto dir = test::scratch_dir("output_fallback");
  const Video video = test::moving_gradient(5, 16, 24);
  const VideoOutputResult result = write_video(video, dir / "clip.mp4", /*mp4_available=*/false);
  EXPECT_EQ(result.format, VideoFormat::Y4m);
  EXPECT_EQ(result.path, dir / "clip.y4m");
  EXPECT_NE(result.note.find("is written as " + (dir / "clip.y4m").string()), std::string::npos) << result.note;
  EXPECT_FALSE(std::filesystem::exists(dir / "clip.mp4"));
  EXPECT_EQ(read_video(result.path).frames, 5);
  // The Y4M alone: no folder of frames beside it that nobody asked for.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  // What this build writes for an .mp4 is what is checked before the work, and said up front.
  EXPECT_EQ(mp4_fallback_note(dir / "a.mp4").empty(), mp4_supported());
  EXPECT_TRUE(mp4_fallback_note(dir / "a.y4m").empty());
  if (!mp4_supported()) {
    std::filesystem::create_directories(dir / "taken.y4m");
    EXPECT_THROW(check_video_output(dir / "taken.mp4"), MediaError);
  }
}

TEST(VideoOutput, EmptyVideoIsAMediaError) {
  const auto dir = test::scratch_dir("output_empty");
  EXPECT_THROW(write_video(Video{}, dir / "a.mp4"), MediaError);
  EXPECT_THROW(write_video(Video{}, dir / "a.mp4", false), MediaError);
  EXPECT_THROW(write_video(Video{}, dir / "frames/"), MediaError);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

}  // namespace
}  // namespace svgear
