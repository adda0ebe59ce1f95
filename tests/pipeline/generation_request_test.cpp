#include "core/pipeline/generation_request.h"

#include <gtest/gtest.h>

#include "core/pipeline/random_model.h"
#include "core/user_error.h"

namespace svgear {
namespace {

ModelManifest tiny_manifest() {
  const RandomModelSpec spec = random_model_preset("tiny");
  ModelManifest m;
  m.dit = spec.dit;
  m.defaults = spec.defaults;
  return m;
}

std::string error_of(const GenerationRequest& r) {
  try {
    r.resolve(tiny_manifest());
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(GenerationRequest, ResolveFillsDefaultsAndKeepsOverrides) {
  GenerationRequest r;
  r.prompt = "a red circle";
  r.steps = 7;
  const GenerationRequest resolved = r.resolve(tiny_manifest());
  EXPECT_EQ(*resolved.steps, 7);
  EXPECT_EQ(*resolved.frames, tiny_manifest().defaults.frames);
  EXPECT_EQ(*resolved.width, tiny_manifest().defaults.width);
  EXPECT_EQ(*resolved.sampler, tiny_manifest().defaults.sampler);
  EXPECT_EQ(*resolved.negative_prompt, "");
  EXPECT_EQ(resolved.to_json()["steps"], 7);
}

TEST(GenerationRequest, ImpossibleSizesSayWhatToChange) {
  GenerationRequest r;
  r.width = 30;  // patch is 4
  const std::string message = error_of(r);
  EXPECT_NE(message.find("width 30 is not a multiple of the patch size 4"), std::string::npos) << message;
  EXPECT_NE(message.find("try 32"), std::string::npos) << message;
  r.width = 0;
  EXPECT_NE(error_of(r).find("width must be between"), std::string::npos);
  r.width.reset();
  r.steps = 0;
  EXPECT_NE(error_of(r).find("steps must be between 1 and 1000"), std::string::npos);
  r.steps.reset();
  r.frames = -3;
  EXPECT_NE(error_of(r).find("frames"), std::string::npos);
  r.frames.reset();
  r.shift = 0.0;
  EXPECT_NE(error_of(r).find("shift"), std::string::npos);
}

// A clip of 2 × (16/4) × (16/4) = 32 tokens: the default 200 / 1000 clusters become 32 each (more
// would be empty), and the resolved request, which the run record keeps, says so.
TEST(GenerationRequest, NoMoreClustersThanTheClipHasTokens) {
  GenerationRequest r;
  r.prompt = "a red circle";
  r.frames = 2;
  r.width = 16;
  r.height = 16;
  GenerationRequest resolved = r.resolve(tiny_manifest());
  EXPECT_EQ(resolved.attention.q_clusters, 32);
  EXPECT_EQ(resolved.attention.k_clusters, 32);
  r.attention.q_clusters = 5;
  r.width = 64;  // 2 × 4 × 16 = 128 tokens
  resolved = r.resolve(tiny_manifest());
  EXPECT_EQ(resolved.attention.q_clusters, 5);
  EXPECT_EQ(resolved.attention.k_clusters, 128);
}

TEST(GenerationRequest, AModelsBadDefaultNamesItsFile) {
  ModelManifest m = tiny_manifest();
  m.folder = "/models/broken";
  m.defaults.steps = 0;
  GenerationRequest r;
  r.prompt = "a red circle";
  try {
    r.resolve(m);
    ADD_FAILURE() << "a default of 0 steps was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("(got 0) ("), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("from \"defaults\" in /models/broken/model.json"), std::string::npos) << e.what();
  }
  r.steps = 3;  // the user's own value stands in for it
  EXPECT_EQ(*r.resolve(m).steps, 3);
}

}  // namespace
}  // namespace svgear
