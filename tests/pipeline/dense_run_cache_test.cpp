// The dense-run cache's key tells runs apart that would make different videos: the same request on
// two model folders of one architecture, or on a folder whose weights were replaced in place.

#include "core/pipeline/dense_run_cache.h"

#include <chrono>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "core/media/frame_archive.h"
#include "core/media/mp4_writer.h"
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

// A tiny random model written under `root` and its dense run of dense_request().
struct TinyDenseRun {
  std::unique_ptr<Model> model;
  GenerationResult run;
};
TinyDenseRun tiny_dense_run(const std::filesystem::path& root) {
  write_random_model(root / "model", random_model_preset("tiny"));
  TinyDenseRun out;
  out.model = Model::load(root / "model", c10::Device(c10::kCPU));
  EventSink quiet;
  out.run = Generator(*out.model).run(dense_request(), quiet, CancelToken());
  return out;
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
  auto loaded = Model::load(root / "one", c10::Device(c10::kCPU));
  const nlohmann::json before = dense_cache_key(dense_request().resolve(loaded->manifest), *loaded);
  std::filesystem::last_write_time(weights, std::filesystem::last_write_time(weights) + std::chrono::seconds(5));
  EXPECT_NE(key_of(root / "one"), one);
  // A model loaded before the files changed still holds the old weights: its runs keep the key of
  // what it loaded, not of the files now (they would be cached as the new weights' runs).
  EXPECT_EQ(dense_cache_key(dense_request().resolve(loaded->manifest), *loaded), before);
}

// A cached dense run is the other half of a speedup: made on another GPU by the same name (a shared
// home), with other CPU threads or by another build, it is no hit. Its video must be the one its
// record describes, or it is run again.
TEST(DenseRunCache, KeyHoldsTheDeviceAndTheBuildAndTheVideoMustMatchItsRecord) {
  const auto root = test::scratch_dir("dense_cache_device");
  auto [model, run] = tiny_dense_run(root);
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
  const VideoOutputResult video = write_video(run.video, dir / "dense.mp4");
  write_run_record(video, record);
  std::string note;
  // Without its frames before encoding a run is no hit: running it again keeps them.
  EXPECT_FALSE(find_cached_dense_run(dir, key, &note));
  EXPECT_NE(note.find("has no frames kept beside it: running it again"), std::string::npos) << note;
  write_frame_archive(run.video, dir / kDenseFramesFile);
  ASSERT_TRUE(find_cached_dense_run(dir, key, &note)) << note;
  EXPECT_TRUE(find_cached_dense_run(dir, key)->frames.rgb == run.video.rgb);
  // A video that is not the one its record describes (a Y4M cut at a frame boundary reads without
  // error): here the record says one frame more.
  nlohmann::json longer = record;
  longer["video"]["frames"] = run.video.frames + 1;
  write_run_record(video, longer);
  EXPECT_FALSE(find_cached_dense_run(dir, key, &note));
  EXPECT_NE(note.find("does not hold the video its record describes"), std::string::npos) << note;

  // A record that cannot be written takes the earlier one with it: that one describes another video.
  EXPECT_ANY_THROW(write_run_record(video, nlohmann::json::array({1})));
  EXPECT_FALSE(std::filesystem::exists(run_record_path(video.path)));
  EXPECT_FALSE(find_cached_dense_run(dir, key, &note));

  // Two runs writing dense.mp4 at once: the other's video lands between this one's write and its
  // record. The record vouches for the video this run wrote, so the other's is not reused as it.
  const VideoOutputResult ours = write_video(run.video, dir / "dense.mp4");
  Video theirs = run.video;
  for (uint8_t& byte : theirs.rgb) byte = uint8_t(255 - byte);
  write_video(theirs, dir / "dense.mp4");
  write_run_record(ours, record);
  EXPECT_FALSE(find_cached_dense_run(dir, key, &note));
  EXPECT_NE(note.find("its checksum differs from its record's"), std::string::npos) << note;
  const VideoOutputResult again = write_video(run.video, dir / "dense.mp4");
  write_run_record(again, record);
  EXPECT_TRUE(find_cached_dense_run(dir, key, &note)) << note;
  // Its video deleted by hand: said, where the run had been run again without a word.
  std::filesystem::remove(again.path);
  note.clear();
  EXPECT_FALSE(find_cached_dense_run(dir, key, &note));
  EXPECT_NE(note.find("is gone (its record is still there): running it again"), std::string::npos) << note;
}

// The studio's form of the cache: the frames as generated, exactly, beside the record; a record
// whose frames are damaged or missing is no hit. A hit marks the run as used.
TEST(DenseRunCache, KeptFramesComeBackExactlyAndDamageIsAMiss) {
  const auto root = test::scratch_dir("dense_cache_frames");
  auto [model, run] = tiny_dense_run(root);
  ASSERT_EQ(run.status, GenerationStatus::Finished);
  const nlohmann::json record = make_run_record(run, *model);
  const nlohmann::json key = dense_cache_key(record);
  const auto dir = dense_cache_folder(root / "cache", key);
  EXPECT_EQ(dir.parent_path(), root / "cache");
  EXPECT_FALSE(find_cached_dense_frames(dir, key));

  std::filesystem::create_directories(dir);
  std::ofstream(dir / "dense.mp4") << "an earlier build's video";
  keep_dense_frames(dir, run.video, record);
  EXPECT_FALSE(std::filesystem::exists(dir / "dense.mp4")) << "nothing reads it now";
  std::filesystem::last_write_time(dir / "dense.json", std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  const auto before = std::filesystem::last_write_time(dir / "dense.json");
  std::string note;
  std::optional<CachedDenseFrames> hit = find_cached_dense_frames(dir, key, &note);
  ASSERT_TRUE(hit) << note;
  EXPECT_TRUE(hit->frames.rgb == run.video.rgb);
  EXPECT_EQ(hit->record, record);
  EXPECT_GT(std::filesystem::last_write_time(dir / "dense.json"), before) << "a hit is a use";
  nlohmann::json other = key;
  other["request"]["seed"] = 4;
  EXPECT_FALSE(find_cached_dense_frames(dir, other));

  std::filesystem::resize_file(dir / kDenseFramesFile, std::filesystem::file_size(dir / kDenseFramesFile) - 1);
  EXPECT_FALSE(find_cached_dense_frames(dir, key, &note));
  EXPECT_NE(note.find("cannot be read"), std::string::npos) << note;
  keep_dense_frames(dir, run.video, record);  // replaced whole
  EXPECT_TRUE(find_cached_dense_frames(dir, key));
  std::filesystem::remove(dir / kDenseFramesFile);
  EXPECT_FALSE(find_cached_dense_frames(dir, key, &note));
  EXPECT_NE(note.find("has no frames"), std::string::npos) << note;

  // An archive of far larger frames than its record describes (zeros deflate ~1000:1: a few KB
  // claiming 6 MB here, 1.5 MB claiming 1.6 GB in the fuzzer's) is refused from its header,
  // within the memory of the described frames, not read first.
  Video large;
  large.frames = 2;
  large.height = 1024;
  large.width = 1024;
  large.fps = run.video.fps;
  large.rgb.assign(large.frame_bytes() * 2, 0);
  write_frame_archive(large, dir / kDenseFramesFile);
  EXPECT_FALSE(find_cached_dense_frames(dir, key, &note));
  EXPECT_NE(note.find("2 frames of 1024x1024 need more memory than the " +
                      std::to_string(run.video.frame_bytes() * size_t(run.video.frames)) + " bytes allowed"),
            std::string::npos)
      << note;
}

// An odd-sized dense video comes back from its MP4 one column and row larger (4:2:0 needs even
// sizes): still the video its record describes, cropped to it, so the run is reused and the padding
// counts in no decoded PSNR.
TEST(DenseRunCache, AnOddSizedVideoIsStillTheOneItsRecordDescribes) {
  if (!mp4_supported()) GTEST_SKIP() << "built without FFmpeg: the Y4M fallback keeps odd sizes";
  const auto root = test::scratch_dir("dense_cache_odd");
  auto [model, run] = tiny_dense_run(root);
  ASSERT_EQ(run.status, GenerationStatus::Finished);
  // The model makes even sizes: its frames less the last column and row stand in for an odd size.
  Video odd = run.video;
  odd.height -= 1;
  odd.width -= 1;
  odd.rgb.clear();
  for (int f = 0; f < odd.frames; ++f) {
    for (int y = 0; y < odd.height; ++y) {
      const uint8_t* row = run.video.frame(f) + size_t(y) * run.video.width * 3;
      odd.rgb.insert(odd.rgb.end(), row, row + size_t(odd.width) * 3);
    }
  }
  nlohmann::json record = make_run_record(run, *model);
  record["video"]["height"] = odd.height;
  record["video"]["width"] = odd.width;
  const auto dir = root / "cache";
  write_run_record(write_video(odd, dir / "dense.mp4"), record);
  write_frame_archive(odd, dir / kDenseFramesFile);
  std::string note;
  const std::optional<CachedDenseRun> hit = find_cached_dense_run(dir, dense_cache_key(record), &note);
  ASSERT_TRUE(hit) << note;
  EXPECT_EQ(hit->video.frames, odd.frames);
  EXPECT_EQ(hit->video.height, odd.height);
  EXPECT_EQ(hit->video.width, odd.width);
  EXPECT_EQ(hit->video.rgb.size(), odd.rgb.size());
}

void fake_run(const std::filesystem::path& folder, size_t bytes, std::chrono::hours age) {
  std::filesystem::create_directories(folder);
  std::ofstream(folder / kDenseFramesFile) << std::string(bytes, 'x');
  std::ofstream(folder / "dense.json") << "{}";
  std::filesystem::last_write_time(folder / "dense.json", std::filesystem::file_time_type::clock::now() - age);
}

TEST(DenseRunCache, MeanStepLeavesTheFirstOut) {
  const auto record = [](std::vector<double> steps) { return nlohmann::json{{"timings_ms", {{"steps", steps}}}}; };
  EXPECT_DOUBLE_EQ(mean_step_ms_after_first(record({2000.0, 100.0, 200.0, 300.0})), 200.0);
  EXPECT_DOUBLE_EQ(mean_step_ms_after_first(record({2000.0})), 2000.0);  // a one-step run has only its first
  EXPECT_DOUBLE_EQ(mean_step_ms_after_first(record({})), 0.0);
}

// The studio's cache is bounded: the least recently used runs go first, the run just made stays
// whatever its size, and nothing but our own folders is ever counted or removed.

TEST(DenseRunCache, TrimRemovesTheLeastRecentlyUsedRunsAndClearRemovesOnlyOurs) {
  const auto root = test::scratch_dir("dense_cache_trim");
  fake_run(root / "dense-old", 1000, std::chrono::hours(30));
  fake_run(root / "dense-middle", 1000, std::chrono::hours(20));
  fake_run(root / "dense-recent", 1000, std::chrono::hours(10));
  fake_run(root / "dense-new", 5000, std::chrono::hours(0));
  fake_run(root / "not-ours", 100000, std::chrono::hours(40));
  std::ofstream(root / "dense-file") << "a file, not a run";
  DenseCacheUsage usage = dense_cache_usage(root);
  EXPECT_EQ(usage.runs, 4);
  EXPECT_EQ(usage.bytes, 3 * 1002u + 5002u);

  trim_dense_cache(root, 7100, root / "dense-new");  // 8008 bytes: the oldest run goes
  EXPECT_FALSE(std::filesystem::exists(root / "dense-old"));
  EXPECT_TRUE(std::filesystem::exists(root / "dense-middle"));
  EXPECT_TRUE(std::filesystem::exists(root / "dense-recent"));
  trim_dense_cache(root, 10, root / "dense-new");
  EXPECT_FALSE(std::filesystem::exists(root / "dense-middle"));
  EXPECT_FALSE(std::filesystem::exists(root / "dense-recent"));
  EXPECT_TRUE(std::filesystem::exists(root / "dense-new")) << "the run just made stays";
  EXPECT_TRUE(std::filesystem::exists(root / "not-ours"));

  fake_run(root / "dense-again", 10, std::chrono::hours(1));
  clear_dense_cache(root);
  EXPECT_EQ(dense_cache_usage(root).runs, 0);
  EXPECT_TRUE(std::filesystem::exists(root / "not-ours"));
  EXPECT_TRUE(std::filesystem::exists(root / "dense-file"));
  EXPECT_EQ(dense_cache_usage(root / "missing").runs, 0);
  clear_dense_cache(root / "missing");  // nothing cached yet: nothing to do
}

}  // namespace
}  // namespace svgear
