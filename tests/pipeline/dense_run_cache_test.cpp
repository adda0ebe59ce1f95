// The dense-run cache's key tells runs apart that would make different videos: the same request on
// two model folders of one architecture, or on a folder whose weights were replaced in place.

#include "core/pipeline/dense_run_cache.h"

#include <chrono>

#include <gtest/gtest.h>

#include "core/pipeline/generation_request.h"
#include "core/pipeline/model.h"
#include "core/pipeline/random_model.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

GenerationRequest dense_request() {
  GenerationRequest r;
  r.prompt = "a red circle";
  r.seed = 3;
  r.steps = 2;
  return r;
}

nlohmann::json key_of(const std::filesystem::path& folder) {
  auto model = Model::load(folder, c10::Device(c10::kCPU));
  GenerationRequest r = dense_request();
  return dense_cache_key(r.resolve(model->manifest), *model);
}

TEST(DenseRunCache, KeyTellsModelFoldersAndTheirWeightsApart) {
  const auto root = test::scratch_dir("dense_cache_key");
  RandomModelSpec spec = random_model_preset("tiny");
  spec.seed = 1;
  write_random_model(root / "one", spec);
  spec.seed = 2;
  write_random_model(root / "two", spec);
  const nlohmann::json one = key_of(root / "one");
  EXPECT_EQ(key_of(root / "one"), one) << "the same folder, untouched: a cache hit";
  nlohmann::json two = key_of(root / "two");
  EXPECT_NE(two, one) << "same model.json, other folder and weights";
  nlohmann::json one_files = one;
  one_files.erase("folder");
  two.erase("folder");
  EXPECT_NE(two, one_files) << "the files alone tell them apart (a folder copied and retrained)";
  // However the folder was typed.
  EXPECT_EQ(key_of(root / "one" / ""), one);
  EXPECT_EQ(key_of(root / "two" / ".." / "one"), one);

  // The weights written again in place (a retrained checkpoint): same sizes, a newer time.
  const auto weights = root / "one" / "model.safetensors";
  ASSERT_TRUE(std::filesystem::exists(weights));
  std::filesystem::last_write_time(weights, std::filesystem::last_write_time(weights) + std::chrono::seconds(5));
  EXPECT_NE(key_of(root / "one"), one);
}

}  // namespace
}  // namespace svgear
