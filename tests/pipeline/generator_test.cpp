#include "core/pipeline/generator.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <new>
#include <stdexcept>
#include <limits>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/pipeline/device_info.h"
#include "core/pipeline/random_model.h"
#include "core/pipeline/run_record.h"
#include "core/text/text_encoder.h"
#include "core/user_error.h"
#include "tests/support/cancel_after_ops.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

// Records every event; optionally cancels after a given number of steps.
class RecordingSink : public EventSink {
 public:
  explicit RecordingSink(CancelToken* cancel_after = nullptr, int steps = 0)
      : cancel_(cancel_after), cancel_after_steps_(steps) {}
  void on_phase(RunPhase phase) override {
    order.push_back(phase == RunPhase::EncodingPrompt ? "encoding" : phase == RunPhase::Denoising ? "denoising" : "decoding");
  }
  void on_step(const StepEvent& e) override {
    order.push_back("step " + std::to_string(e.step));
    steps.push_back(e);
    if (cancel_ && int(steps.size()) == cancel_after_steps_) cancel_->cancel();
  }
  void on_preview(const PreviewEvent& e) override { previews.push_back(e.video); }
  void on_finished(const FinishedEvent& e) override {
    order.push_back("finished");
    finished.push_back(e.video);
  }
  void on_error(const ErrorEvent& e) override { errors.push_back(e.message); }
  void on_log(const std::string& line) override { logs.push_back(line); }

  std::vector<std::string> order;  // phases, steps and the finish, as they came
  std::vector<StepEvent> steps;
  std::vector<Video> previews;
  std::vector<Video> finished;
  std::vector<std::string> errors;
  std::vector<std::string> logs;

 private:
  CancelToken* cancel_;
  int cancel_after_steps_;
};

class GeneratorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    folder_ = new std::filesystem::path(test::scratch_dir("generator_model"));
    write_random_model(*folder_, random_model_preset("tiny"));
  }
  static void TearDownTestSuite() { delete folder_; }
  static std::filesystem::path* folder_;

  static GenerationRequest request(uint64_t seed) {
    GenerationRequest r;
    r.prompt = "a red circle moves left over a blue sky";
    r.seed = seed;
    r.steps = 3;
    return r;
  }
};
std::filesystem::path* GeneratorTest::folder_ = nullptr;

// A size no memory holds (pixel models take up to 8192² × 1024 frames) is refused before
// the first step, with what a step needs against what the host has, not an allocator's message.
TEST_F(GeneratorTest, ARequestWhoseStepCannotFitIsRefusedBeforeTheFirstStep) {
  if (!available_host_memory()) GTEST_SKIP() << "no MemAvailable in /proc/meminfo here";
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  Generator generator(*model);
  GenerationRequest r = request(1);
  r.width = 8192;
  r.height = 8192;
  r.frames = 1024;
  RecordingSink sink;
  CancelToken cancel;
  GenerationResult result = generator.run(r, sink, cancel);
  EXPECT_EQ(result.status, GenerationStatus::Failed);
  EXPECT_NE(result.error.find("out of memory on cpu"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("tokens per step need at least"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("lower the frames or the resolution"), std::string::npos) << result.error;
  EXPECT_TRUE(sink.steps.empty());
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0], result.error);
}

// A weight file that parses but holds a NaN: the run fails at the first step with an error that
// says so, instead of finishing a black video.
TEST_F(GeneratorTest, NonFiniteWeightsFailWithAnError) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  at::Tensor head = model->dit->weights().head_head_weight;  // a handle: filled in place
  head.select(0, 0).fill_(std::numeric_limits<float>::quiet_NaN());
  Generator generator(*model);
  RecordingSink sink;
  CancelToken cancel;
  GenerationResult result = generator.run(request(1), sink, cancel);
  EXPECT_EQ(result.status, GenerationStatus::Failed);
  EXPECT_NE(result.error.find("step 1 of 3 gave non-finite values"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find(model->manifest.name), std::string::npos) << result.error;
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0], result.error);
  EXPECT_TRUE(sink.steps.empty());
  EXPECT_TRUE(sink.finished.empty());
}

TEST_F(GeneratorTest, RunsAndReportsEveryStep) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  Generator generator(*model);
  RecordingSink sink;
  CancelToken cancel;
  GenerationResult result = generator.run(request(1), sink, cancel);
  ASSERT_EQ(result.status, GenerationStatus::Finished) << result.error;
  ASSERT_EQ(sink.steps.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.steps[i].step, i);
    EXPECT_EQ(sink.steps[i].num_steps, 3);
    EXPECT_GT(sink.steps[i].step_ms, 0.0);
  }
  EXPECT_GT(sink.steps[0].timestep, sink.steps[2].timestep);  // time runs from noise to clean
  EXPECT_EQ(sink.steps[2].eta_ms, 0.0);
  // Where no step marks the time (a first step of minutes on a CPU, a long decode), a phase does.
  EXPECT_EQ(sink.order, std::vector<std::string>({"encoding", "denoising", "step 0", "step 1", "step 2", "decoding",
                                                  "finished"}));
  EXPECT_EQ(sink.previews.size(), 2u);  // every step but the last, which is the final video
  ASSERT_EQ(sink.finished.size(), 1u);
  const Video& v = result.video;
  EXPECT_EQ(v.frames, 4);
  EXPECT_EQ(v.height, 32);
  EXPECT_EQ(v.width, 32);
  EXPECT_EQ(v.rgb.size(), size_t(4 * 32 * 32 * 3));
  EXPECT_EQ(result.timings.step_ms.size(), 3u);
  EXPECT_GT(result.timings.preview_ms, 0.0);  // the two previews' decodes, timed apart from the steps
  EXPECT_TRUE(sink.errors.empty());

  const nlohmann::json record = make_run_record(result, *model);
  EXPECT_EQ(record["status"], "finished");
  EXPECT_EQ(record["request"]["seed"], 1);
  EXPECT_EQ(record["request"]["steps"], 3);
  EXPECT_EQ(record["request"]["attention"]["mode"], "dense");
  EXPECT_EQ(record["timings_ms"]["steps"].size(), 3u);
  EXPECT_DOUBLE_EQ(record["timings_ms"]["previews"].get<double>(), result.timings.preview_ms);
  EXPECT_EQ(record["model"]["name"], "random-tiny");
  EXPECT_FALSE(record["device"]["description"].get<std::string>().empty());
  EXPECT_EQ(record["device"]["sparse_attention_kernel"], "CPU gather");  // a CPU model

  // Where records go: beside a video as <stem>.json; a PNG folder's name is kept whole, so that
  // "res.json/" is not its own record and "a.mp4/" does not share a.mp4's.
  EXPECT_EQ(run_record_path("out/a.mp4"), "out/a.json");
  EXPECT_EQ(run_record_path("out/frames/"), "out/frames.json");
  EXPECT_EQ(run_record_path("out/res.json/"), "out/res.json.json");
  EXPECT_EQ(run_record_path("out/a.mp4/"), "out/a.mp4.json");
  // A record replaces a record, never another file.
  const auto dir = test::scratch_dir("record_path");
  write_run_record({dir / "a.mp4", VideoFormat::Mp4, "", ""}, record);  // no video: no checksum
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(dir / "a.json"))["video"]["file"], "a.mp4");
  EXPECT_NO_THROW(check_run_record_for(dir / "a.mp4"));
  std::ofstream(dir / "model.json") << R"({"format": "svgear-model/1"})";
  std::ofstream(dir / "notes.json") << "not even JSON";
  for (const char* video : {"model.y4m", "notes.mp4"}) {
    try {
      check_run_record_for(dir / video);
      ADD_FAILURE() << video;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("exists and is not a run record"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("Choose another output name."), std::string::npos) << e.what();
    }
  }
  // A name the user did not give (compare's dense.mp4 in its --out folder) has no other to choose.
  try {
    check_run_record_for(dir / "notes.mp4", false);
    ADD_FAILURE() << "notes.json was taken for a record";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("Move it away (even a damaged record of an earlier run), or write elsewhere."),
              std::string::npos)
        << e.what();
  }
  // Nor another video's record while that video is there: a.y4m would take a.mp4's a.json.
  std::ofstream(dir / "a.mp4") << "a video";
  try {
    check_run_record_for(dir / "a.y4m");
    ADD_FAILURE() << "a.y4m took a.mp4's record";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("is the run record of"), std::string::npos) << e.what();
  }
  EXPECT_THROW(check_run_record_for(dir / "a/"), UserError);  // a PNG folder a/ too
  std::filesystem::remove(dir / "a.mp4");
  EXPECT_NO_THROW(check_run_record_for(dir / "a.y4m"));  // its video is gone: the record describes nothing
  write_run_record({dir / "frames/", VideoFormat::PngFrames, "", ""}, record);
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(dir / "frames.json"))["video"]["file"], "frames/");
}

TEST_F(GeneratorTest, SameSeedSameVideoDifferentSeedDifferentVideo) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  Generator generator(*model);
  EventSink quiet;
  CancelToken cancel;
  const Video a = generator.run(request(7), quiet, cancel).video;
  const Video b = generator.run(request(7), quiet, cancel).video;
  const Video c = generator.run(request(8), quiet, cancel).video;
  EXPECT_EQ(a.rgb, b.rgb);
  EXPECT_NE(a.rgb, c.rgb);
}

TEST_F(GeneratorTest, GuidanceChangesTheResult) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  Generator generator(*model);
  EventSink quiet;
  CancelToken cancel;
  GenerationRequest r = request(3);
  r.guidance = 1.0;  // conditional pass only
  const Video unguided = generator.run(r, quiet, cancel).video;
  r.guidance = 4.0;
  const Video guided = generator.run(r, quiet, cancel).video;
  ASSERT_FALSE(unguided.empty());
  EXPECT_NE(unguided.rgb, guided.rgb);
}

TEST_F(GeneratorTest, CancelKeepsThePartialResult) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  Generator generator(*model);
  CancelToken cancel;
  RecordingSink sink(&cancel, 1);
  GenerationRequest r = request(5);
  r.steps = 4;
  GenerationResult result = generator.run(r, sink, cancel);
  EXPECT_EQ(result.status, GenerationStatus::Cancelled);
  EXPECT_EQ(result.steps_done, 1);
  EXPECT_EQ(sink.steps.size(), 1u);
  EXPECT_FALSE(result.video.empty());  // the preview of step 1
  EXPECT_TRUE(sink.finished.empty());
  EXPECT_TRUE(sink.errors.empty());

  // Without previews (the CLI's way) a cancel keeps nothing, unless the estimate is kept: then the
  // step's estimate is decoded when the cancel comes, and it is the preview that step would show.
  const Video preview_of_step_1 = result.video;
  r.preview_every = 0;
  for (const bool keep : {false, true}) {
    r.keep_estimate = keep;
    cancel.reset();
    RecordingSink quiet(&cancel, 1);
    result = generator.run(r, quiet, cancel);
    EXPECT_EQ(result.status, GenerationStatus::Cancelled);
    EXPECT_TRUE(quiet.previews.empty());
    ASSERT_EQ(result.video.empty(), !keep) << "keep_estimate " << keep;
    EXPECT_EQ(result.timings.preview_ms, 0.0);  // no preview was decoded, the partial result's decode aside
    EXPECT_EQ(result.timings.decode_ms > 0.0, keep);
    if (keep) {
      EXPECT_EQ(result.video.rgb, preview_of_step_1.rgb);
      EXPECT_NE(std::find(quiet.logs.begin(), quiet.logs.end(), "decoding the estimate of step 1 for the partial result"),
                quiet.logs.end());
      EXPECT_EQ(quiet.logs.back(), "cancelled after 1 step; kept the last estimate");
    } else {
      // A run that keeps no partial result (a compare's) says only where it stopped.
      EXPECT_EQ(quiet.logs.back(), "cancelled after 1 step");
    }
  }
}

TEST_F(GeneratorTest, BadRequestsBecomeErrorEventsNotExceptions) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  Generator generator(*model);
  RecordingSink sink;
  CancelToken cancel;
  GenerationRequest r = request(1);
  r.prompt = "a purple hexagon";
  GenerationResult result = generator.run(r, sink, cancel);
  EXPECT_EQ(result.status, GenerationStatus::Failed);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_NE(sink.errors[0].find("'purple'"), std::string::npos) << sink.errors[0];
  EXPECT_NE(sink.errors[0].find("circle"), std::string::npos) << "vocabulary listed: " << sink.errors[0];

  r = request(1);
  r.width = 30;
  result = generator.run(r, sink, cancel);
  EXPECT_EQ(result.status, GenerationStatus::Failed);
  EXPECT_NE(result.error.find("multiple of the patch"), std::string::npos);

  r = request(1);
  r.attention.mode = AttentionMode::SvgEar;
  r.attention.top_p = 0.0;  // an empty budget cannot route anything
  result = generator.run(r, sink, cancel);
  EXPECT_EQ(result.status, GenerationStatus::Failed);
  EXPECT_NE(result.error.find("svgear"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("top_p (--top-p) must be in (0, 1]"), std::string::npos) << result.error;
}

// A text encoder that fails the way `fail` does, for the generator's sorting of failures.
class FailingEncoder : public TextEncoder {
 public:
  explicit FailingEncoder(std::function<void()> fail) : fail_(std::move(fail)) {}
  at::Tensor encode(std::string_view) const override {
    fail_();
    return {};
  }
  int text_dim() const override { return 8; }

 private:
  std::function<void()> fail_;
};

// Running out of host memory is the user's to fix (a smaller request), with the same message as the
// allocator's own error; anything unexpected is an internal error. Neither escapes as an exception.
TEST_F(GeneratorTest, OutOfMemoryIsTheUsersAndOtherFailuresAreInternal) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  const struct {
    std::function<void()> fail;
    bool internal;
    const char* says;
  } cases[] = {
      {[] { throw std::bad_alloc(); }, false, "out of memory on cpu: lower the frames or the resolution"},
      {[] { TORCH_CHECK(false, "DefaultCPUAllocator: not enough memory: you tried to allocate 9 bytes."); }, false,
       "out of memory on cpu: lower the frames or the resolution"},
      {[] { TORCH_CHECK(false, "shape '[3]' is invalid for input of size 2"); }, true,
       "generation failed: shape '[3]' is invalid"},
      {[] { throw std::logic_error("a broken invariant"); }, true, "generation failed: a broken invariant"},
      // A GPU library's own allocation: only a GPU part (a Wan VAE or text encoder there) fails so.
      {[] { TORCH_CHECK(false, "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`"); }, false,
       "out of memory on cuda: lower the frames or the resolution"},
  };
  for (const auto& c : cases) {
    model->text_encoder = std::make_unique<FailingEncoder>(c.fail);
    RecordingSink sink;
    CancelToken cancel;
    const GenerationResult result = Generator(*model).run(request(1), sink, cancel);
    EXPECT_EQ(result.status, GenerationStatus::Failed) << c.says;
    EXPECT_EQ(result.error_is_internal, c.internal) << c.says;
    EXPECT_EQ(result.error.rfind(c.says, 0), 0u) << result.error;
    ASSERT_EQ(sink.errors.size(), 1u) << c.says;
    EXPECT_EQ(sink.errors[0], result.error);
  }
}

// Largest difference in 8-bit code values between two videos of one size.
int max_code_difference(const Video& a, const Video& b) {
  EXPECT_EQ(a.rgb.size(), b.rgb.size());
  int worst = 0;
  for (size_t i = 0; i < std::min(a.rgb.size(), b.rgb.size()); ++i) {
    worst = std::max(worst, std::abs(int(a.rgb[i]) - int(b.rgb[i])));
  }
  return worst;
}

TEST_F(GeneratorTest, SvgEarAtFullBudgetMakesTheDenseVideo) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  Generator generator(*model);
  EventSink quiet;
  CancelToken cancel;
  GenerationResult dense = generator.run(request(5), quiet, cancel);
  ASSERT_EQ(dense.status, GenerationStatus::Finished) << dense.error;

  GenerationRequest r = request(5);
  r.attention.mode = AttentionMode::SvgEar;
  r.attention.q_clusters = 8;
  r.attention.k_clusters = 24;
  r.attention.dense_warmup_steps = 0.0;  // every step sparse, every layer but the one dense layer
  r.attention.dense_layers = 0.0;
  r.attention.top_p = 1.0;  // the budget covers every block: exact attention everywhere
  GenerationResult full = generator.run(r, quiet, cancel);
  ASSERT_EQ(full.status, GenerationStatus::Finished) << full.error;

  // The same request at a small budget does take the sparse path: the video moves.
  r.attention.top_p = 0.2;
  r.attention.guaranteed_ratio = 0.0;
  GenerationResult sparse = generator.run(r, quiet, cancel);
  ASSERT_EQ(sparse.status, GenerationStatus::Finished) << sparse.error;
  // Only summation order differs from dense at top_p 1 (fp32): at most one code value anywhere.
  const int full_diff = max_code_difference(full.video, dense.video);
  const int sparse_diff = max_code_difference(sparse.video, dense.video);
  std::printf("max code difference to dense: top_p 1.0 %d, top_p 0.2 %d\n", full_diff, sparse_diff);
  EXPECT_LE(full_diff, 1);
  EXPECT_GT(sparse_diff, 1);
}

TEST_F(GeneratorTest, ACancelledTokenStopsTheModelLoad) {
  CancelToken cancel;
  ModelOptions options;
  options.cancel = &cancel;
  cancel.cancel();
  EXPECT_THROW(Model::load(*folder_, c10::Device(c10::kCPU), options), Cancelled);
  cancel.reset();
  EXPECT_NE(Model::load(*folder_, c10::Device(c10::kCPU), options), nullptr);
}

// Cancelled part-way through the load, at half and at seven eighths of its ATen operators: both in
// the DiT's tensors, the last part of the load and nearly all of its operators (the tiny DiT alone
// runs ~200 of them, 3 per tensor). The load stops before its end instead of returning a model.
TEST_F(GeneratorTest, ATokenCancelledDuringTheModelLoadStopsIt) {
  int64_t whole_load = 0;
  {
    test::CancelAfterOps count(nullptr, 0);
    ASSERT_NE(Model::load(*folder_, c10::Device(c10::kCPU)), nullptr);
    whole_load = count.operators();
  }
  ASSERT_GT(whole_load, 100);
  for (const int64_t cancel_at : {whole_load / 2, whole_load - whole_load / 8}) {
    SCOPED_TRACE(::testing::Message() << "cancelled at operator " << cancel_at << " of " << whole_load);
    CancelToken cancel;
    ModelOptions options;
    options.cancel = &cancel;
    test::CancelAfterOps cancel_part_way(&cancel, cancel_at);
    EXPECT_THROW(Model::load(*folder_, c10::Device(c10::kCPU), options), Cancelled);
    EXPECT_TRUE(cancel.is_cancelled());
    EXPECT_LT(cancel_part_way.operators(), whole_load);
  }
}

bool says_reference_path(const RecordingSink& sink) {
  return std::any_of(sink.logs.begin(), sink.logs.end(),
                     [](const std::string& line) { return line.find("runs through the ATen reference") != std::string::npos; });
}

// A sparse mode whose block-sparse attention has no kernel on the run's GPU (the tiny model's head
// dim is 32) warns so before its steps; on the CPU a sparse mode notes that it is for inspecting
// the routing, not for speed; with dense attention there is nothing to say.
TEST_F(GeneratorTest, SparseAttentionWithoutAKernelSaysSo) {
  std::vector<c10::Device> devices = {c10::Device(c10::kCPU)};
  if (at::hasCUDA()) devices.emplace_back(c10::kCUDA, 0);
  for (const c10::Device device : devices) {
    auto model = Model::load(*folder_, device);
    ASSERT_EQ(model->dit->config().head_dim(), 32);
    for (const AttentionMode mode : {AttentionMode::Dense, AttentionMode::SvgEar}) {
      SCOPED_TRACE(device.str() + " " + attention_mode_name(mode));
      GenerationRequest r = request(5);
      r.steps = 2;
      r.attention.mode = mode;
      r.attention.q_clusters = 8;
      r.attention.k_clusters = 24;
      RecordingSink sink;
      CancelToken cancel;
      ASSERT_EQ(Generator(*model).run(r, sink, cancel).status, GenerationStatus::Finished);
      EXPECT_EQ(says_reference_path(sink), device.is_cuda() && mode != AttentionMode::Dense);
      const bool notes_cpu = std::any_of(sink.logs.begin(), sink.logs.end(), [](const std::string& line) {
        return line == "svgear attention on the CPU is for inspecting its routing: its speed-up comes from the GPU "
                       "kernels, and here it is usually slower than dense attention";
      });
      EXPECT_EQ(notes_cpu, device.is_cpu() && mode != AttentionMode::Dense);
    }
  }
}

// The line of `request`'s notes before the steps (a run with its token cancelled: they come before
// the first step) that contains `part`; "" when none does.
std::string note_before_the_steps(Model& model, const GenerationRequest& request, const std::string& part) {
  RecordingSink sink;
  CancelToken cancel;
  cancel.cancel();
  EXPECT_EQ(Generator(model).run(request, sink, cancel).status, GenerationStatus::Cancelled);
  const auto it = std::find_if(sink.logs.begin(), sink.logs.end(),
                               [&](const std::string& line) { return line.find(part) != std::string::npos; });
  return it == sink.logs.end() ? std::string() : *it;
}

// A clip 16 times the model's default video or more warns before the steps (attention's cost
// grows with the square of the tokens); the default size and 4 times it do not.
TEST_F(GeneratorTest, ASizeFarFromTheModelsDefaultWarnsBeforeTheSteps) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  const SamplingDefaults& d = model->manifest.defaults;
  const auto warns = [&](int width, int height) {
    GenerationRequest r = request(5);
    r.width = width;
    r.height = height;
    return note_before_the_steps(*model, r, "was not made for that size");
  };
  EXPECT_EQ(warns(d.width, d.height), "");
  EXPECT_EQ(warns(2 * d.width, 2 * d.height), "");
  const std::string far = warns(4 * d.width, 4 * d.height);
  EXPECT_EQ(far, std::to_string(4 * d.width) + "×" + std::to_string(4 * d.height) + " at " + std::to_string(d.frames) +
                     " frames is 16× the video of " + model->manifest.name + "'s default (" + std::to_string(d.width) +
                     "×" + std::to_string(d.height) + ", " + std::to_string(d.frames) +
                     " frames): each step's attention costs about 256× as much, and the model was not made for that size");
}

// A sparse mode whose dense warm-up or dense layers cover the whole run says it runs dense.
TEST_F(GeneratorTest, ASparseModeWithNoSparseCallSaysItRunsDense) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  const auto warning = [&](double dense_steps, double dense_layers) {
    GenerationRequest r = request(5);
    r.attention.mode = AttentionMode::SvgEar;
    r.attention.dense_warmup_steps = dense_steps;
    r.attention.dense_layers = dense_layers;
    return note_before_the_steps(*model, r, "no call runs");
  };
  EXPECT_EQ(warning(0.2, 0.03), "");
  EXPECT_EQ(warning(1.0, 0.03),
            "no call runs svgear attention: the dense warm-up (1 of the steps) keeps all 3 steps dense, so this run is "
            "dense attention");
  {  // a run of one step: "the one step", not "all 1 steps"
    GenerationRequest one = request(5);
    one.steps = 1;
    one.attention.mode = AttentionMode::SvgEar;
    one.attention.dense_warmup_steps = 1.0;
    EXPECT_EQ(note_before_the_steps(*model, one, "no call runs"),
              "no call runs svgear attention: the dense warm-up (1 of the steps) keeps the one step dense, so this run "
              "is dense attention");
  }
  const int layers = model->dit->config().num_layers;
  EXPECT_EQ(warning(0.2, 1.0), "no call runs svgear attention: the dense layers (1 of the layers) keep all " +
                                   std::to_string(layers) + " layers dense, so this run is dense attention");
  // Nor, then, the note that sparse attention on the CPU is slow: the run is dense.
  GenerationRequest all_dense = request(5);
  all_dense.attention.mode = AttentionMode::SvgEar;
  all_dense.attention.dense_warmup_steps = 1.0;
  EXPECT_EQ(note_before_the_steps(*model, all_dense, "on the CPU is for inspecting"), "");
  all_dense.attention.dense_warmup_steps = 0.2;
  EXPECT_NE(note_before_the_steps(*model, all_dense, "on the CPU is for inspecting"), "");
}

// --kmeans-in-warmup in a run whose warm-up has no step changes nothing: said so before the steps.
TEST_F(GeneratorTest, KmeansInWarmupWithoutAWarmupStepSaysItChangesNothing) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  const auto warning = [&](AttentionMode mode, double dense_steps, bool kmeans_in_warmup) {
    GenerationRequest r = request(5);  // 3 steps
    r.attention.mode = mode;
    r.attention.dense_warmup_steps = dense_steps;
    r.attention.kmeans_in_warmup = kmeans_in_warmup;
    return note_before_the_steps(*model, r, "(--kmeans-in-warmup)");
  };
  EXPECT_EQ(warning(AttentionMode::SvgEar, 0.2, true),
            "k-means in the dense warm-up (--kmeans-in-warmup) changes nothing: this run's warm-up (0.2 of 3 steps) "
            "has no step. Drop it, or make the warm-up a step or more (--dense-steps)");
  EXPECT_NE(warning(AttentionMode::Svg2, 0.0, true), "");
  EXPECT_EQ(warning(AttentionMode::SvgEar, 0.4, true), "");  // one warm-up step of 3
  EXPECT_EQ(warning(AttentionMode::SvgEar, 0.2, false), "");
  EXPECT_EQ(warning(AttentionMode::Dense, 0.0, true), "");
}

// --noise device on the CPU is the CPU's draw (and the record leaves the choice out): said so.
TEST_F(GeneratorTest, TheDevicesNoiseOnTheCpuIsSaidToBeTheCpus) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  for (const NoiseSource noise : {NoiseSource::Cpu, NoiseSource::Device}) {
    GenerationRequest r = request(5);
    r.noise = noise;
    EXPECT_EQ(note_before_the_steps(*model, r, "noise on the CPU"),
              noise == NoiseSource::Device ? "the device's own noise on the CPU is the CPU's: this run draws the same "
                                             "noise as one without it, and its record leaves the choice out"
                                           : "");
  }
}

TEST_F(GeneratorTest, CudaMatchesCpuForTheSameSeed) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  auto cpu_model = Model::load(*folder_, c10::Device(c10::kCPU));
  auto gpu_model = Model::load(*folder_, c10::Device(c10::kCUDA, 0));
  EventSink quiet;
  CancelToken cancel;
  const Video cpu = Generator(*cpu_model).run(request(11), quiet, cancel).video;
  GenerationResult gpu = Generator(*gpu_model).run(request(11), quiet, cancel);
  ASSERT_EQ(gpu.status, GenerationStatus::Finished) << gpu.error;
  ASSERT_EQ(cpu.rgb.size(), gpu.video.rgb.size());
  // bf16 on the GPU vs fp32 on the CPU: the same video up to rounding (PSNR well above 30 dB).
  double mse = 0.0;
  for (size_t i = 0; i < cpu.rgb.size(); ++i) {
    const double d = (double(cpu.rgb[i]) - double(gpu.video.rgb[i])) / 255.0;
    mse += d * d;
  }
  mse /= double(cpu.rgb.size());
  const double psnr = 10.0 * std::log10(1.0 / std::max(mse, 1e-12));
  EXPECT_GT(psnr, 30.0);
  std::printf("CPU fp32 vs CUDA bf16 PSNR: %.1f dB\n", psnr);
}

// A decoder whose decode fell back (as the Wan VAE's tiles after whole frames ran out of GPU
// memory): the run warns with its note, and the record keeps the fallback apart from the frames
// the VAE's place plans, where a compare of the two runs finds it.
TEST_F(GeneratorTest, ADecodersFallbackIsWarnedAndRecorded) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  struct FallingBack : LatentDecoder {
    explicit FallingBack(std::unique_ptr<LatentDecoder> inner) : inner(std::move(inner)) {}
    LatentShape latent_shape(int frames, int height, int width) const override {
      return inner->latent_shape(frames, height, width);
    }
    Video decode(const at::Tensor& latent, double fps, const CancelToken* cancel, DecodeReport* report) const override {
      Video video = inner->decode(latent, fps, cancel);
      if (report) *report = DecodeReport{true, "decoded in tiles, as this test's decoder says"};
      return video;
    }
    std::unique_ptr<LatentDecoder> inner;
  };
  Generator generator(*model);
  RecordingSink plain_sink;
  CancelToken cancel;
  model->vae_device = c10::Device(c10::kCPU);  // a Wan model's: its record names the VAE's frames
  const GenerationResult plain = generator.run(request(2), plain_sink, cancel);
  ASSERT_EQ(plain.status, GenerationStatus::Finished) << plain.error;
  EXPECT_FALSE(plain.decode.tiles_after_out_of_memory);
  model->decoder = std::make_unique<FallingBack>(std::move(model->decoder));
  RecordingSink sink;
  const GenerationResult result = generator.run(request(2), sink, cancel);
  ASSERT_EQ(result.status, GenerationStatus::Finished) << result.error;
  EXPECT_TRUE(result.decode.tiles_after_out_of_memory);
  EXPECT_NE(std::find(sink.logs.begin(), sink.logs.end(), "decoded in tiles, as this test's decoder says"), sink.logs.end());
  const nlohmann::json record = make_run_record(result, *model);
  const nlohmann::json plain_record = make_run_record(plain, *model);
  EXPECT_EQ(record["device"]["vae_frames"], "tiles");
  EXPECT_EQ(record["device"]["vae_tiles_after_out_of_memory"], true);
  EXPECT_FALSE(plain_record["device"].contains("vae_tiles_after_out_of_memory"));
  EXPECT_EQ(vae_fallback_warning(plain_record, plain_record), "");
  EXPECT_EQ(vae_fallback_warning(plain_record, record),
            "the sparse run's VAE decoded in tiles after running out of GPU memory, the other's whole frames: part "
            "of the difference between the videos is the tiles'");
  EXPECT_EQ(vae_fallback_warning(record, record).rfind("both runs' VAE", 0), 0u);
}

}  // namespace
}  // namespace svgear
