#include "core/shapes/adherence_evaluator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "core/shapes/prompt_grammar.h"
#include "core/shapes/scene_renderer.h"
#include "core/shapes/scene_sampler.h"
#include "core/shapes/seeded_random.h"
#include "core/user_error.h"

namespace svgear {
namespace {

constexpr ClipSize kClip{16, 64, 64};

struct AttributeTally {
  int colour = 0;
  int shape = 0;
  int motion = 0;
  int objects = 0;
};

TEST(AdherenceEvaluator, CleanRendersOfRandomScenesScoreAtLeast95Percent) {
  constexpr int kScenes = 300;
  AttributeTally right;
  std::map<std::string, int> mistakes;  // "expected → measured", to see what the evaluator confuses
  for (int seed = 0; seed < kScenes; ++seed) {
    const SampledScene scene = sample_scene(uint64_t(seed));
    const Video video = render_scene(scene.spec, kClip, uint64_t(seed));
    const AdherenceReport report = evaluate_adherence(video, scene.spec);
    ASSERT_EQ(report.objects.size(), scene.spec.objects.size());
    for (const ObjectAdherence& o : report.objects) {
      ++right.objects;
      right.colour += o.colour_right;
      right.shape += o.shape_right;
      right.motion += o.motion_right;
      if (!o.found) ++mistakes["not found: " + std::string(colour_name(o.expected.colour))];
      if (o.found && !o.colour_right) {
        ++mistakes["colour " + std::string(colour_name(o.expected.colour)) + " → " +
                   std::string(colour_name(o.measured_colour))];
      }
      if (o.found && !o.shape_right) {
        ++mistakes["shape " + std::string(shape_name(o.expected.shape)) + " → " +
                   std::string(shape_name(o.measured_shape))];
      }
      if (o.found && !o.motion_right) {
        ++mistakes["motion " + std::string(motion_name(o.expected.motion)) + " → " +
                   std::string(motion_name(o.measured_motion))];
      }
    }
  }
  const double colour = double(right.colour) / right.objects;
  const double shape = double(right.shape) / right.objects;
  const double motion = double(right.motion) / right.objects;
  const double overall = double(right.colour + right.shape + right.motion) / (3.0 * right.objects);
  std::printf(
      "clean renders, %d scenes, %d objects at %dx%dx%d: colour %.1f%%, shape %.1f%%, motion %.1f%%, "
      "all attributes %.1f%%\n",
      kScenes, right.objects, kClip.width, kClip.height, kClip.frames, 100 * colour, 100 * shape,
      100 * motion, 100 * overall);
  for (const auto& [mistake, count] : mistakes) std::printf("  %3d × %s\n", count, mistake.c_str());
  EXPECT_GE(overall, 0.95);
  EXPECT_GE(colour, 0.95);
  EXPECT_GE(shape, 0.95);
  EXPECT_GE(motion, 0.95);
}

// A generated video is never clean: uniform noise of ±16 per channel on every pixel, and a larger
// clip, still score nearly as well.
TEST(AdherenceEvaluator, NoisyAndLargerRendersStillScoreHigh) {
  struct Case {
    ClipSize clip;
    int noise;
    int scenes;
  };
  for (const Case& c : {Case{kClip, 16, 100}, Case{{17, 128, 128}, 0, 25}}) {
    int right = 0, total = 0;
    for (int seed = 0; seed < c.scenes; ++seed) {
      const SampledScene scene = sample_scene(uint64_t(seed + 5000));
      Video video = render_scene(scene.spec, c.clip, uint64_t(seed));
      SeededRandom random(uint64_t(seed), 1);
      for (uint8_t& b : video.rgb)
        b = uint8_t(std::clamp(int(b) + int(random.uniform(-c.noise, c.noise + 1)), 0, 255));
      const AdherenceReport report = evaluate_adherence(video, scene.spec);
      right += report.attributes_right;
      total += report.attributes_total;
    }
    std::printf("%dx%dx%d, noise ±%d, %d scenes: %.1f%% of attributes right\n", c.clip.width, c.clip.height,
                c.clip.frames, c.noise, c.scenes, 100.0 * right / total);
    EXPECT_GE(double(right) / total, 0.93);
  }
}

TEST(AdherenceEvaluator, MismatchedPromptsScoreFarLower) {
  constexpr int kScenes = 100;
  double matched = 0.0, mismatched = 0.0;
  for (int seed = 0; seed < kScenes; ++seed) {
    const SampledScene scene = sample_scene(uint64_t(seed));
    const SampledScene other = sample_scene(uint64_t(seed + 1000));
    const Video video = render_scene(scene.spec, kClip, uint64_t(seed));
    matched += evaluate_adherence(video, scene.spec).score();
    // The other scene's objects over this video's background: only the objects are judged.
    SceneSpec wrong = other.spec;
    wrong.background = scene.spec.background;
    mismatched += evaluate_adherence(video, wrong).score();
  }
  std::printf("mean score over %d scenes: own prompt %.3f, another scene's prompt %.3f\n", kScenes,
              matched / kScenes, mismatched / kScenes);
  EXPECT_LT(mismatched / kScenes, 0.5);
  EXPECT_GT(matched / kScenes - mismatched / kScenes, 0.5);
}

TEST(AdherenceEvaluator, OneWrongAttributeIsNamed) {
  const SceneSpec spec = parse_prompt("a large red square moves right over a black background");
  const Video video = render_scene(spec, kClip, 7);

  const AdherenceReport right = evaluate_adherence(video, spec);
  EXPECT_EQ(right.attributes_right, 3);

  SceneSpec wrong_motion = spec;
  wrong_motion.objects[0].motion = Motion::Left;
  const AdherenceReport motion = evaluate_adherence(video, wrong_motion);
  EXPECT_TRUE(motion.objects[0].colour_right);
  EXPECT_TRUE(motion.objects[0].shape_right);
  EXPECT_FALSE(motion.objects[0].motion_right);
  EXPECT_EQ(motion.objects[0].measured_motion, Motion::Right);

  SceneSpec wrong_colour = spec;
  wrong_colour.objects[0].colour = Colour::Blue;
  const AdherenceReport colour = evaluate_adherence(video, wrong_colour);
  EXPECT_TRUE(colour.objects[0].found);
  EXPECT_FALSE(colour.objects[0].colour_right);
  EXPECT_EQ(colour.objects[0].measured_colour, Colour::Red);
  EXPECT_TRUE(colour.objects[0].shape_right);

  EXPECT_EQ(format_adherence_report(motion),
            "red square: colour right, shape right, motion wrong (right, not left)");

  SceneSpec wrong_shape = spec;
  wrong_shape.objects[0].shape = Shape::Star;
  const AdherenceReport shape = evaluate_adherence(video, wrong_shape);
  EXPECT_FALSE(shape.objects[0].shape_right);
  EXPECT_EQ(shape.objects[0].measured_shape, Shape::Square);
}

// Object and background colours swapped (what a bag-of-words text encoder cannot tell apart): the
// prompted colour covers the whole clip, which is a background, not the object.
TEST(AdherenceEvaluator, SwappedObjectAndBackgroundColoursAreWrong) {
  const SceneSpec prompted = parse_prompt("a large red square stays still over a blue background");
  const SceneSpec swapped = parse_prompt("a large blue square stays still over a red background");
  const Video video = render_scene(swapped, kClip, 5);
  EXPECT_EQ(evaluate_adherence(video, swapped).attributes_right, 3);
  const AdherenceReport report = evaluate_adherence(video, prompted);
  EXPECT_FALSE(report.objects[0].colour_right) << format_adherence_report(report);
  EXPECT_LE(report.attributes_right, 1) << format_adherence_report(report);
}

TEST(AdherenceEvaluator, AnEmptyBackgroundFindsNothing) {
  const SceneSpec spec = parse_prompt("a red circle moves left over a blue sky");
  Video video = render_scene(spec, kClip, 3);
  const std::vector<uint8_t> sky = render_background(spec.background, kClip.height, kClip.width, 3);
  for (int f = 0; f < video.frames; ++f) std::copy(sky.begin(), sky.end(), video.frame(f));
  const AdherenceReport report = evaluate_adherence(video, spec);
  EXPECT_FALSE(report.objects[0].found);
  EXPECT_EQ(report.attributes_right, 0);
  EXPECT_EQ(report.attributes_total, 3);
  EXPECT_EQ(format_adherence_report(report), "red circle: not found");
}

TEST(AdherenceEvaluator, RejectsAnEmptyVideo) {
  EXPECT_THROW(evaluate_adherence(Video{}, parse_prompt("a circle")), UserError);
}

}  // namespace
}  // namespace svgear
