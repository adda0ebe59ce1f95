// The dense-run cache's key tells runs apart that would make different videos: the same request on
// two model folders of one architecture, or on a folder whose weights were replaced in place.

#include "core/pipeline/dense_run_cache.h"

#include <chrono>

#include <gtest/gtest.h>

#include "core/media/video_output.h"
#include "core/pipeline/generation_request.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/model.h"
#include "core/pipeline/random_model.h"
#include "core/pipeline/run_record.h"
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

// A cached dense run is the other half of a speedup: made on another GPU by the same name (a shared
// home), with other CPU threads or by another build, it is no hit. Its video must be the one its
// record describes, or it is run again.
TEST(DenseRunCache, KeyHoldsTheDeviceAndTheBuildAndTheVideoMustMatchItsRecord) {
  const auto root = test::scratch_dir("dense_cache_device");
  write_random_model(root / "model", random_model_preset("tiny"));
  auto model = Model::load(root / "model", c10::Device(c10::kCPU));
  EventSink quiet;
  GenerationResult run = Generator(*model).run(dense_request(), quiet, CancelToken());
  ASSERT_EQ(run.status, GenerationStatus::Finished);
  const nlohmann::json record = make_run_record(run, *model);
  const nlohmann::json key = dense_cache_key(record);
  nlohmann::json other_device = record;
  other_device["device"]["description"] = "NVIDIA H100 80GB HBM3, 132 SMs";
  EXPECT_NE(dense_cache_key(other_device), key);
  nlohmann::json other_build = record;
  other_build["software"]["libtorch"] = "2.10.0";
  EXPECT_NE(dense_cache_key(other_build), key);

  const auto dir = root / "cache";
  const std::filesystem::path video = video_output_path(dir / "dense.mp4");
  write_video(run.video, dir / "dense.mp4");
  write_run_record(video, record);
  std::string note;
  ASSERT_TRUE(find_cached_dense_run(dir, key, &note)) << note;
  // A video that is not the one its record describes (a Y4M cut at a frame boundary reads without
  // error): here the record says one frame more.
  nlohmann::json longer = record;
  longer["video"]["frames"] = run.video.frames + 1;
  write_run_record(video, longer);
  EXPECT_FALSE(find_cached_dense_run(dir, key, &note));
  EXPECT_NE(note.find("does not hold the video its record describes"), std::string::npos) << note;
}

}  // namespace
}  // namespace svgear
