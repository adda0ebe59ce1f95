#include "core/shapes/scene_renderer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/media/png_writer.h"
#include "core/shapes/prompt_grammar.h"
#include "core/shapes/scene_sampler.h"
#include "core/user_error.h"
#include "tests/support/png_reader.h"

namespace svgear {
namespace {

constexpr ClipSize kClip{16, 64, 64};

// Pixels of frame f that differ from the background, and their centroid.
struct Blob {
  double area = 0.0;
  double x = 0.0;
  double y = 0.0;
};

Blob blob_in(const Video& video, int f, const std::vector<uint8_t>& background) {
  Blob blob;
  const uint8_t* frame = video.frame(f);
  for (int y = 0; y < video.height; ++y) {
    for (int x = 0; x < video.width; ++x) {
      const size_t i = (size_t(y) * video.width + x) * 3;
      const int diff = std::abs(frame[i] - background[i]) + std::abs(frame[i + 1] - background[i + 1]) +
                       std::abs(frame[i + 2] - background[i + 2]);
      const double weight = diff / 3.0;
      blob.area += weight;
      blob.x += weight * (x + 0.5);
      blob.y += weight * (y + 0.5);
    }
  }
  if (blob.area > 0) {
    blob.x /= blob.area;
    blob.y /= blob.area;
  }
  return blob;
}

double frame_difference(const Video& video, int a, int b) {
  double sum = 0.0;
  for (size_t i = 0; i < video.frame_bytes(); ++i) sum += std::abs(video.frame(a)[i] - video.frame(b)[i]);
  return sum;
}

TEST(SceneRenderer, SameSeedSameBytesOtherSeedOtherPlaces) {
  const SceneSpec spec = parse_prompt("a red circle moves left, a small blue star orbits over grey noise");
  const Video a = render_scene(spec, kClip, 42);
  const Video b = render_scene(spec, kClip, 42);
  const Video c = render_scene(spec, kClip, 43);
  EXPECT_EQ(a.rgb, b.rgb);
  EXPECT_NE(a.rgb, c.rgb);
  EXPECT_EQ(a.frames, 16);
  EXPECT_EQ(a.rgb.size(), size_t(16) * 64 * 64 * 3);
}

TEST(SceneRenderer, ShapeEdgesAreBlendsOfObjectAndBackground) {
  const Video video = render_scene(parse_prompt("a large white circle over a black background"), kClip, 1);
  int blends = 0;
  for (size_t i = 0; i < video.frame_bytes(); i += 3) {
    const uint8_t v = video.frame(0)[i];
    blends += v > colour_rgb(Colour::Black).r + 5 && v < colour_rgb(Colour::White).r - 5;
  }
  EXPECT_GT(blends, 30);  // the rim of a 12 px circle
}

// The coverage a training loss weights by is the blend the frame shows: white over black makes the
// pixel's value black + coverage · (white − black); two objects leave coverage 0 exactly where the frame is the
// background's; and asking for it does not change the frames.
TEST(SceneRenderer, ObjectCoverageIsWhereTheObjectsArePainted) {
  std::vector<uint8_t> coverage;
  const SceneSpec circle = parse_prompt("a large white circle moves right over a black background");
  const Video video = render_scene(circle, kClip, 3, &coverage);
  ASSERT_EQ(coverage.size(), size_t(kClip.frames) * kClip.height * kClip.width);
  EXPECT_EQ(video.rgb, render_scene(circle, kClip, 3).rgb);
  const double black = colour_rgb(Colour::Black).r, white = colour_rgb(Colour::White).r;
  int covered = 0;
  double worst = 0.0;
  for (size_t p = 0; p < coverage.size(); ++p) {
    worst = std::max(worst, std::abs(video.rgb[3 * p] - (black + (white - black) * coverage[p] / 255.0)));
    covered += coverage[p] > 0;
  }
  EXPECT_LE(worst, 1.0);                     // both rounded from the same coverage
  EXPECT_GT(covered, kClip.frames * 300);    // a 12 px circle in every frame
  EXPECT_LT(covered, kClip.frames * 1000);

  const SceneSpec two = parse_prompt("a red square moves up, a small blue star spins over a green background");
  const Video pair = render_scene(two, kClip, 9, &coverage);
  const std::vector<uint8_t> background = render_background(two.background, kClip.height, kClip.width, 9);
  for (int f = 0; f < kClip.frames; ++f) {
    for (int p = 0; p < kClip.height * kClip.width; ++p) {
      const uint8_t* pixel = pair.frame(f) + 3 * p;
      const bool painted = !std::equal(pixel, pixel + 3, background.begin() + 3 * p);
      ASSERT_EQ(painted, coverage[size_t(f) * kClip.height * kClip.width + p] > 0) << "frame " << f << " pixel " << p;
    }
  }
}

TEST(SceneRenderer, EveryShapeAndColourIsVisible) {
  for (int s = 0; s < kShapeCount; ++s) {
    for (int c = 0; c < kColourCount; ++c) {
      SceneSpec spec;
      spec.objects.push_back({Shape(s), Colour(c), Size::Small, Motion::Still});
      spec.background = {BackgroundKind::Solid, Colour(c) == Colour::Black ? Colour::White : Colour::Black};
      const Video video = render_scene(spec, {1, 64, 64}, 5);
      int exact = 0;
      const Rgb rgb = colour_rgb(Colour(c));
      for (size_t i = 0; i < video.frame_bytes(); i += 3) {
        exact += video.rgb[i] == rgb.r && video.rgb[i + 1] == rgb.g && video.rgb[i + 2] == rgb.b;
      }
      EXPECT_GT(exact, 60) << shape_name(Shape(s)) << " " << colour_name(Colour(c));
    }
  }
}

TEST(SceneRenderer, EveryMotionMovesTheRightWay) {
  const std::vector<uint8_t> black = render_background({BackgroundKind::Solid, Colour::Black}, 64, 64, 0);
  for (int m = 0; m < kMotionCount; ++m) {
    const Motion motion = Motion(m);
    for (uint64_t seed = 0; seed < 5; ++seed) {
      SceneSpec spec;
      spec.objects.push_back({Shape::Square, Colour::White, Size::Medium, motion});
      const Video video = render_scene(spec, kClip, seed);
      const Blob first = blob_in(video, 0, black);
      const Blob last = blob_in(video, 15, black);
      double min_y = 1e9, max_y = -1e9, min_x = 1e9, max_x = -1e9;
      for (int f = 0; f < 16; ++f) {
        const Blob b = blob_in(video, f, black);
        min_x = std::min(min_x, b.x);
        max_x = std::max(max_x, b.x);
        min_y = std::min(min_y, b.y);
        max_y = std::max(max_y, b.y);
      }
      const double dx = last.x - first.x;
      const double dy = last.y - first.y;
      SCOPED_TRACE(std::string(motion_name(motion)) + " seed " + std::to_string(seed));
      // "Clearly visible" at 64×64 in 16 frames: at least 10 px of travel, 6 px of bounce, 2× area.
      switch (motion) {
        case Motion::Left:
          EXPECT_LT(dx, -10);
          EXPECT_NEAR(dy, 0, 0.5);
          break;
        case Motion::Right:
          EXPECT_GT(dx, 10);
          EXPECT_NEAR(dy, 0, 0.5);
          break;
        case Motion::Up:
          EXPECT_LT(dy, -10);
          EXPECT_NEAR(dx, 0, 0.5);
          break;
        case Motion::Down:
          EXPECT_GT(dy, 10);
          EXPECT_NEAR(dx, 0, 0.5);
          break;
        case Motion::UpLeft:
          EXPECT_LT(dx, -10);
          EXPECT_NEAR(dy, dx, 0.5);
          break;
        case Motion::UpRight:
          EXPECT_GT(dx, 10);
          EXPECT_NEAR(dy, -dx, 0.5);
          break;
        case Motion::DownLeft:
          EXPECT_LT(dx, -10);
          EXPECT_NEAR(dy, -dx, 0.5);
          break;
        case Motion::DownRight:
          EXPECT_GT(dx, 10);
          EXPECT_NEAR(dy, dx, 0.5);
          break;
        case Motion::Bounce:
          EXPECT_GT(max_y - min_y, 6);
          EXPECT_LT(max_x - min_x, 0.5);
          break;
        case Motion::Orbit:
          EXPECT_GT(max_y - min_y, 15);
          EXPECT_GT(max_x - min_x, 15);
          break;
        case Motion::Grow:
          EXPECT_GT(last.area, 2 * first.area);
          EXPECT_NEAR(dx, 0, 0.5);
          break;
        case Motion::Shrink:
          EXPECT_LT(2 * last.area, first.area);
          EXPECT_NEAR(dx, 0, 0.5);
          break;
        case Motion::Spin:
          EXPECT_NEAR(dx, 0, 0.5);
          EXPECT_NEAR(dy, 0, 0.5);
          EXPECT_GT(frame_difference(video, 0, 1), 20 * 255.0);
          break;
        case Motion::Still: EXPECT_EQ(frame_difference(video, 0, 15), 0.0); break;
      }
    }
  }
}

TEST(SceneRenderer, LongClipsKeepEveryShapeInFrame) {
  for (int m = 0; m < kMotionCount; ++m) {
    for (int s = 0; s < kShapeCount; ++s) {
      SceneSpec spec;
      spec.objects.push_back({Shape(s), Colour::Red, Size::Large, Motion(m)});
      for (ClipSize size : {ClipSize{300, 64, 64}, ClipSize{81, 48, 128}}) {
        const auto placements = plan_scene(spec, size, uint64_t(m * 31 + s));
        for (const auto& frame : placements) {
          const ShapePlacement& p = frame[0];
          const double reach = shape_extent(p.shape) * p.radius_px;
          ASSERT_GE(p.centre_x - reach, 0.0) << motion_name(Motion(m));
          ASSERT_LE(p.centre_x + reach, size.width) << motion_name(Motion(m));
          ASSERT_GE(p.centre_y - reach, 0.0) << motion_name(Motion(m));
          ASSERT_LE(p.centre_y + reach, size.height) << motion_name(Motion(m));
        }
      }
    }
  }
}

TEST(SceneRenderer, BackgroundsLookAsNamed) {
  const auto pixel = [](const std::vector<uint8_t>& rgb, int x, int y) {
    const size_t i = (size_t(y) * 64 + x) * 3;
    return Rgb{rgb[i], rgb[i + 1], rgb[i + 2]};
  };
  const auto sky = render_background({BackgroundKind::Sky, Colour::Black}, 64, 64, 0);
  EXPECT_GT(pixel(sky, 5, 0).b, pixel(sky, 5, 0).r);
  EXPECT_LT(pixel(sky, 5, 0).g, pixel(sky, 5, 63).g);  // darker at the top
  const auto sunset = render_background({BackgroundKind::Sunset, Colour::Black}, 64, 64, 0);
  EXPECT_GT(pixel(sunset, 5, 63).r, pixel(sunset, 5, 63).b);  // orange at the horizon
  const auto stripes = render_background({BackgroundKind::Stripes, Colour::Green}, 64, 64, 0);
  EXPECT_EQ(pixel(stripes, 0, 0), colour_rgb(Colour::Green));
  EXPECT_NE(pixel(stripes, 8, 0), colour_rgb(Colour::Green));
  EXPECT_EQ(pixel(stripes, 8, 0), pixel(stripes, 8, 40));
  const auto checker = render_background({BackgroundKind::Checker, Colour::Red}, 64, 64, 0);
  EXPECT_EQ(pixel(checker, 0, 0), pixel(checker, 8, 8));
  EXPECT_NE(pixel(checker, 0, 0), pixel(checker, 8, 0));
  const auto noise_a = render_background({BackgroundKind::Noise, Colour::Grey}, 64, 64, 1);
  const auto noise_b = render_background({BackgroundKind::Noise, Colour::Grey}, 64, 64, 2);
  EXPECT_NE(noise_a, noise_b);
  for (uint8_t v : noise_a) EXPECT_LE(std::abs(int(v) - 128), kNoiseAmplitude);
}

TEST(SceneRenderer, RejectsSizesAndScenesItCannotDraw) {
  const SceneSpec spec = parse_prompt("a circle");
  EXPECT_THROW(render_scene(spec, {0, 64, 64}, 0), UserError);
  EXPECT_THROW(render_scene(spec, {16, 4, 64}, 0), UserError);
  EXPECT_THROW(render_scene(SceneSpec{}, kClip, 0), UserError);
  EXPECT_NO_THROW(render_scene(spec, {1, 8, 8}, 0));
}

// Sample frames of random scenes, one per background kind (the first seeds that show each), every
// other frame, 3× enlarged: written to the build folder as shapes-world.png (docs/shapes-world.png
// is a copy, looked at by eye). Read back, every pixel is its scene's frame or the gaps' grey.
TEST(SceneRenderer, WritesASampleGrid) {
  constexpr int kScenes = 6, kStep = 2, kScale = 3, kGap = 3;
  constexpr uint8_t kGapGrey = 32;
  const int tile = 64 * kScale;
  const int columns = kClip.frames / kStep;
  const int width = columns * (tile + kGap) + kGap;
  const int height = kScenes * (tile + kGap) + kGap;
  std::vector<uint8_t> grid(size_t(width) * height * 3, kGapGrey);
  std::vector<uint64_t> seeds;
  for (uint64_t seed = 1; int(seeds.size()) < kScenes; ++seed) {
    const BackgroundKind kind = sample_scene(seed).spec.background.kind;
    if (std::none_of(seeds.begin(), seeds.end(),
                     [&](uint64_t s) { return sample_scene(s).spec.background.kind == kind; })) {
      seeds.push_back(seed);
    }
  }
  static_assert(kScenes == kBackgroundKindCount);
  std::vector<Video> videos;
  for (int row = 0; row < kScenes; ++row) {
    const SampledScene scene = sample_scene(seeds[row]);
    std::printf("row %d (seed %d): %s\n", row + 1, int(seeds[row]), scene.prompt.c_str());
    const Video& video = videos.emplace_back(render_scene(scene.spec, kClip, seeds[row]));
    for (int column = 0; column < columns; ++column) {
      const uint8_t* frame = video.frame(column * kStep);
      for (int y = 0; y < tile; ++y) {
        for (int x = 0; x < tile; ++x) {
          const uint8_t* from = frame + (size_t(y / kScale) * 64 + x / kScale) * 3;
          uint8_t* to =
              grid.data() +
              (size_t(kGap + row * (tile + kGap) + y) * width + kGap + column * (tile + kGap) + x) * 3;
          std::copy(from, from + 3, to);
        }
      }
    }
  }
  const char* build_dir = std::getenv("SVGEAR_BUILD_DIR");
  const std::filesystem::path path =
      std::filesystem::path(build_dir ? build_dir : std::filesystem::temp_directory_path().string()) /
      "shapes-world.png";
  write_png(path, grid.data(), height, width);

  // Checked from the file and the rendered frames, not the grid buffer: each pixel is mapped back to
  // the tile it falls in (or a gap) and the frame pixel it enlarges.
  const test::PngImage png = test::read_png(path);
  ASSERT_EQ(png.width, width);
  ASSERT_EQ(png.height, height);
  const uint8_t gap[3] = {kGapGrey, kGapGrey, kGapGrey};
  long wrong = 0;
  std::string first_wrong;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const int row = (y - kGap) / (tile + kGap), ty = (y - kGap) % (tile + kGap);
      const int column = (x - kGap) / (tile + kGap), tx = (x - kGap) % (tile + kGap);
      const bool in_tile = y >= kGap && x >= kGap && ty < tile && tx < tile;
      const uint8_t* expected =
          in_tile ? videos[row].frame(column * kStep) + (size_t(ty / kScale) * 64 + tx / kScale) * 3 : gap;
      const uint8_t* actual = png.rgb.data() + (size_t(y) * width + x) * 3;
      if (!std::equal(expected, expected + 3, actual) && wrong++ == 0) {
        first_wrong = "x " + std::to_string(x) + " y " + std::to_string(y) + (in_tile ? " (tile)" : " (gap)");
      }
    }
  }
  EXPECT_EQ(wrong, 0) << "first at " << first_wrong;
}

}  // namespace
}  // namespace svgear
