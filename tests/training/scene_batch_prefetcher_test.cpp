// The prefetcher's batches depend only on the step: a prefetched batch, one rendered on demand and
// one of a fresh prefetcher are the same bytes and prompts, and steps differ from each other.

#include "core/training/scene_batch_prefetcher.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "core/shapes/prompt_grammar.h"

namespace svgear {
namespace {

TEST(SceneBatchPrefetcher, BatchesDependOnlyOnTheStep) {
  const ShapesModelSpec spec = shapes_model_preset("shapes-tiny");
  SceneBatchPrefetcher in_order(spec, 5, 3);
  const SceneBatch s0 = in_order.take(0);
  const SceneBatch s1 = in_order.take(1);  // was prefetched while step 0 was used
  SceneBatchPrefetcher jumping(spec, 5, 3);
  const SceneBatch j1 = jumping.take(1);
  const SceneBatch j0 = jumping.take(0);  // drops the prefetch of step 2
  EXPECT_EQ(s1.step, 1);
  EXPECT_EQ(s0.pixels, j0.pixels);
  EXPECT_EQ(s1.pixels, j1.pixels);
  EXPECT_EQ(s0.prompts, j0.prompts);
  EXPECT_EQ(s1.prompts, j1.prompts);
  EXPECT_NE(s0.pixels, s1.pixels);
  const size_t clip_values = size_t(spec.clip.frames) * spec.clip.height * spec.clip.width * 3;
  ASSERT_EQ(s0.pixels.size(), 3 * clip_values);
  ASSERT_EQ(s0.prompts.size(), 3u);
  for (const std::string& prompt : s0.prompts) EXPECT_FALSE(prompt.empty());
  // Clips within a batch are different scenes.
  EXPECT_FALSE(std::equal(s0.pixels.begin(), s0.pixels.begin() + ptrdiff_t(clip_values),
                          s0.pixels.begin() + ptrdiff_t(clip_values)));
  SceneBatchPrefetcher other_seed(spec, 6, 3);
  EXPECT_NE(other_seed.take(0).pixels, s0.pixels);
}

// The scenes follow the spec's object count (a recipe's --max-objects reaches the prefetcher
// through it): 1 to max_objects objects, the maximum reached.
TEST(SceneBatchPrefetcher, ScenesHaveUpToMaxObjects) {
  for (const int max_objects : {1, 3}) {
    ShapesModelSpec spec = shapes_model_preset("shapes-tiny");
    spec.max_objects = max_objects;
    SceneBatchPrefetcher batches(spec, 5, 8);
    size_t most = 0;
    for (int step = 0; step < 2; ++step) {
      for (const std::string& prompt : batches.take(step).prompts) {
        const size_t objects = parse_prompt(prompt).objects.size();
        EXPECT_GE(objects, 1u) << prompt;
        EXPECT_LE(objects, size_t(max_objects)) << prompt;
        most = std::max(most, objects);
      }
    }
    EXPECT_EQ(most, size_t(max_objects));
  }
}

}  // namespace
}  // namespace svgear
