#include "core/shapes/scene_sampler.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "core/shapes/prompt_grammar.h"
#include "core/shapes/scene_renderer.h"
#include "core/user_error.h"

namespace svgear {
namespace {

double rgb_distance(Rgb a, Rgb b) {
  return std::hypot(double(a.r - b.r), double(a.g - b.g), double(a.b - b.b));
}

TEST(SceneSampler, SeedGivesSceneAndItsCanonicalPrompt) {
  EXPECT_EQ(sample_scene(5).spec, sample_scene(5).spec);
  EXPECT_NE(sample_scene(5).prompt, sample_scene(6).prompt);
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const SampledScene scene = sample_scene(seed);
    EXPECT_EQ(scene.prompt, canonical_prompt(scene.spec));
    EXPECT_EQ(parse_prompt(scene.prompt), scene.spec);
  }
}

TEST(SceneSampler, CoversTheVocabularyAboutUniformly) {
  constexpr int kScenes = 6000;
  std::array<int, kShapeCount> shapes{};
  std::array<int, kColourCount> colours{};
  std::array<int, kSizeCount> sizes{};
  std::array<int, kMotionCount> motions{};
  std::array<int, kBackgroundKindCount> backgrounds{};
  std::array<int, kMaxSceneObjects + 1> counts{};
  int objects = 0;
  for (uint64_t seed = 0; seed < kScenes; ++seed) {
    const SceneSpec spec = sample_scene(seed).spec;
    ++backgrounds[int(spec.background.kind)];
    ++counts[spec.objects.size()];
    const std::vector<Rgb> background = background_palette(spec.background);
    for (size_t i = 0; i < spec.objects.size(); ++i) {
      const SceneObject& o = spec.objects[i];
      ++objects;
      ++shapes[int(o.shape)];
      ++colours[int(o.colour)];
      ++sizes[int(o.size)];
      ++motions[int(o.motion)];
      EXPECT_FALSE(o.motion == Motion::Spin && shape_is_rotation_invariant(o.shape));
      for (Rgb b : background) EXPECT_GE(rgb_distance(colour_rgb(o.colour), b), kMinColourContrast);
      for (size_t j = 0; j < i; ++j) EXPECT_NE(o.colour, spec.objects[j].colour);
    }
  }
  auto expect_near_uniform = [](const auto& histogram, int total, double tolerance, const char* what) {
    for (size_t i = 0; i < histogram.size(); ++i) {
      const double share = double(histogram[i]) * histogram.size() / total;
      EXPECT_GT(share, 1 - tolerance) << what << " " << i;
      EXPECT_LT(share, 1 + tolerance) << what << " " << i;
    }
  };
  expect_near_uniform(shapes, objects, 0.1, "shape");
  expect_near_uniform(sizes, objects, 0.1, "size");
  expect_near_uniform(motions, objects, 0.35, "motion");  // spins: 6 of 8 shapes (~0.75 of a share)
  expect_near_uniform(backgrounds, kScenes, 0.1, "background");
  expect_near_uniform(colours, objects, 0.35, "colour");  // each background rules out its own colours
  EXPECT_EQ(counts[0], 0);
  for (int n = 1; n <= kMaxSceneObjects; ++n) EXPECT_NEAR(counts[n], kScenes / 3, kScenes / 30);
}

// sampler_could_draw accepts what the sampler draws and refuses what it never would.
TEST(SceneSampler, CouldDrawExactlyItsOwnKindOfScene) {
  for (uint64_t seed = 0; seed < 500; ++seed) EXPECT_TRUE(sampler_could_draw(sample_scene(seed).spec)) << seed;
  EXPECT_TRUE(sampler_could_draw(parse_prompt("a red star spins over a blue background")));
  EXPECT_FALSE(sampler_could_draw(parse_prompt("a red circle spins over a blue background")));  // looks still
  EXPECT_FALSE(sampler_could_draw(parse_prompt("a blue star spins over a blue background")));   // no contrast
  EXPECT_FALSE(sampler_could_draw(parse_prompt("a red star, a red circle over a blue background")));  // one colour
}

TEST(SceneSamplerOptions, LimitObjectCountsForACurriculum) {
  for (uint64_t seed = 0; seed < 100; ++seed) EXPECT_EQ(sample_scene(seed, {1, 1}).spec.objects.size(), 1u);
  EXPECT_THROW(sample_scene(0, {0, 2}), UserError);
  EXPECT_THROW(sample_scene(0, {2, 1}), UserError);
  EXPECT_THROW(sample_scene(0, {1, 4}), UserError);
}

}  // namespace
}  // namespace svgear
