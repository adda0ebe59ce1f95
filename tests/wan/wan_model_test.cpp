// Model::load on tiny Wan folders in both layouts, generated end to end through the VAE into a
// video file on the CPU; the DiT loaded from a folder gives the reference output.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/attention/dense_backend.h"
#include "core/media/video_output.h"
#include "core/media/video_reader.h"
#include "core/pipeline/dense_run_cache.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/run_record.h"
#include "core/text/wan_text_encoder.h"
#include "tests/model/tiny_wan.h"
#include "tests/support/tensor_compare.h"
#include "tests/support/test_paths.h"
#include "tests/wan/tiny_wan_folder.h"

namespace svgear {
namespace {

constexpr double kFloat32Tolerance = 1e-4;  // testvectors/README.md

GenerationRequest tiny_request() {
  GenerationRequest r;
  r.prompt = "a red cat walks on the grass";
  r.seed = 7;
  r.steps = 2;
  r.frames = 5;   // 2 latent frames
  r.height = 32;  // latent 4 × 6
  r.width = 48;
  return r;
}

// The relative L2 of the model's DiT against the tiny reference output (dense attention).
double reference_error(const Model& model) {
  const test::TinyWanIo io = test::tiny_wan_io();
  DenseBackend dense;
  DiTForward call;
  call.attention = &dense;
  return test::relative_l2(model.dit->forward(io.x, io.t, io.context, call), io.out);
}

// Runs the request, writes the video as Y4M and checks what comes back from the file.
void expect_generates(Model& model, const std::filesystem::path& out) {
  EventSink sink;
  CancelToken cancel;
  const GenerationResult result = Generator(model).run(tiny_request(), sink, cancel);
  ASSERT_EQ(result.status, GenerationStatus::Finished) << result.error;
  EXPECT_EQ(result.video.frames, 5);
  EXPECT_EQ(result.video.height, 32);
  EXPECT_EQ(result.video.width, 48);
  const VideoOutputResult written = write_video(result.video, out);
  const Video back = read_video(written.path);
  EXPECT_EQ(back.frames, 5);
  EXPECT_EQ(back.width, 48);
}

TEST(WanModel, OriginalLayoutLoadsAndGenerates) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_original") / "model");
  auto model = Model::load(dir, c10::Device(c10::kCPU));
  EXPECT_EQ(model->manifest.latent, LatentKind::WanVae);
  EXPECT_EQ(model->manifest.text_encoder, TextEncoderKind::Umt5);
  EXPECT_EQ(model->manifest.dit.num_heads, 2);  // from config.json
  EXPECT_EQ(model->manifest.dit.text_len, 16);
  EXPECT_EQ(model->manifest.defaults.steps, 50);
  EXPECT_EQ(model->manifest.defaults.frames, 81);
  EXPECT_NE(model->manifest.description.find("original layout"), std::string::npos);
  expect_generates(*model, dir.parent_path() / "original.y4m");
}

// A Wan model's run record says where its text encoder and VAE ran, and the dense-run cache tells
// runs apart by it (the VAE decodes whole frames on a GPU and tiles on the CPU).
TEST(WanModel, RunRecordsSayWhereTheTextEncoderAndVaeRan) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_placement") / "model");
  ModelOptions options;
  options.vae_device = c10::Device(c10::kCPU);
  auto model = Model::load(dir, c10::Device(c10::kCPU), options);
  EventSink sink;
  CancelToken cancel;
  const GenerationResult result = Generator(*model).run(tiny_request(), sink, cancel);
  ASSERT_EQ(result.status, GenerationStatus::Finished) << result.error;
  nlohmann::json record = make_run_record(result, *model);
  EXPECT_EQ(record["device"]["text_encoder"], "cpu");
  EXPECT_EQ(record["device"]["vae"], "cpu");
  EXPECT_EQ(record["device"]["vae_frames"], "tiles");
  EXPECT_FALSE(record["device"].contains("vae_tiles_after_out_of_memory"));
  const nlohmann::json key = dense_cache_key(record);
  nlohmann::json other = record;
  other["device"]["vae_frames"] = "whole";
  EXPECT_NE(dense_cache_key(other), key);
  // A fallback is not in the key: the next run at that size falls back as well.
  other = record;
  other["device"]["vae_tiles_after_out_of_memory"] = true;
  EXPECT_EQ(dense_cache_key(other), key);
  // A CPU VAE's record from before vae_frames tiled as it does now; a GPU's decoded otherwise.
  other = record;
  other["device"].erase("vae_frames");
  EXPECT_EQ(dense_cache_key(other), key);
  other["device"]["vae"] = "cuda:0";
  nlohmann::json on_gpu = record;
  on_gpu["device"]["vae"] = "cuda:0";
  on_gpu["device"]["vae_frames"] = "whole";
  EXPECT_NE(dense_cache_key(other), dense_cache_key(on_gpu));
  record["device"]["vae"] = "cuda:0";
  EXPECT_NE(dense_cache_key(record), key);
  record["device"].erase("vae");
  record["device"].erase("text_encoder");
  EXPECT_NE(dense_cache_key(record), key) << "a record without them is a built-in model's";
}

// Upstream cuts a prompt past text_len without a word; the run says which words its encoder ignored.
TEST(WanModel, ALongPromptSaysWhatTheTextEncoderIgnores) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_long_prompt") / "model");
  auto model = Model::load(dir, c10::Device(c10::kCPU));  // text_len 16: 15 pieces and EOS
  // The run's log, one line after another.
  const auto logged = [&](const GenerationRequest& r) {
    struct Logs : EventSink {
      void on_log(const std::string& line) override { text += line + "\n"; }
      std::string text;
    } logs;
    CancelToken cancel;
    const GenerationResult result = Generator(*model).run(r, logs, cancel);
    EXPECT_EQ(result.status, GenerationStatus::Finished) << result.error;
    return logs.text;
  };
  GenerationRequest r = tiny_request();
  r.steps = 1;
  r.guidance = 5.0;
  r.negative_prompt = "grass";
  r.prompt = "a cat walks on the grass a cat walks on the grass a cat walks on the cat on the grass";
  std::string log = logged(r);
  EXPECT_NE(log.find("the prompt is too long: the text encoder reads its first 15 tokens and ignores the last 6, "
                     "from \"on the cat on the grass\"; shorten it"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("negative prompt"), std::string::npos) << log;

  r.prompt = "a cat walks on the grass";
  r.negative_prompt = r.prompt + " " + r.prompt + " " + r.prompt;  // 18 words
  log = logged(r);
  EXPECT_NE(log.find("the negative prompt is too long: the text encoder reads its first 15 tokens and ignores the "
                     "last 3, from \"on the grass\""),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("the prompt is too long"), std::string::npos) << log;
}

TEST(WanModel, DiffusersLayoutLoadsTheSameWeightsAndGenerates) {
  const auto root = test::scratch_dir("wan_diffusers");
  auto diffusers = Model::load(test::write_tiny_wan_diffusers(root / "diffusers"), c10::Device(c10::kCPU));
  auto original = Model::load(test::write_tiny_wan_original(root / "original"), c10::Device(c10::kCPU));
  EXPECT_NE(diffusers->manifest.description.find("diffusers layout"), std::string::npos);
  EXPECT_EQ(diffusers->manifest.weight_files.size(), 2u);  // both shards
  EXPECT_EQ(diffusers->manifest.dit.num_heads, 2);          // num_attention_heads
  EXPECT_EQ(diffusers->manifest.dit.text_len, 512);         // Diffusers configs do not hold it
  const auto a = diffusers->dit->weights().state_dict();
  const auto b = original->dit->weights().state_dict();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
  }
  // umT5 stored as fp16 (ComfyUI) and fp32 shards (Diffusers), both run in bf16: same context.
  const at::Tensor ca = diffusers->text_encoder->encode("a red cat");
  const at::Tensor cb = original->text_encoder->encode("a red cat");
  EXPECT_LT(test::relative_l2(ca, cb), 1e-2);
  expect_generates(*diffusers, root / "diffusers.y4m");
}

TEST(WanModel, DitFromAFolderMatchesTheReference) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_reference") / "model");
  auto model = Model::load(dir, c10::Device(c10::kCPU));
  const double error = reference_error(*model);
  std::cout << "[ measured ] DiT loaded from a ComfyUI-layout folder vs reference: relative L2 " << error << "\n";
  EXPECT_LT(error, kFloat32Tolerance);
}

// A ComfyUI folder with an *_fp8_scaled DiT loads (its blocks' linears kept in e4m3) and generates.
TEST(WanModel, ScaledFp8DiTFolderLoadsAndGenerates) {
  const auto dir = test::write_tiny_wan_fp8_scaled(test::scratch_dir("wan_fp8_folder") / "model");
  auto model = Model::load(dir, c10::Device(c10::kCPU));
  EXPECT_EQ(model->manifest.weight_files.front(), "wan2.1_t2v_tiny_fp8_scaled.safetensors");
  EXPECT_NE(model->manifest.description.find("fp8 (linear weights kept in 8 bits)"), std::string::npos);
  EXPECT_EQ(model->dit->weights().blocks[0].self_attn_q_weight.scalar_type(), at::kFloat8_e4m3fn);  // kept
  EXPECT_EQ(model->dit->weights().blocks[0].compute_dtype(), at::kFloat);
  const double error = reference_error(*model);
  std::cout << "[ measured ] fp8_scaled DiT from a ComfyUI-layout folder vs reference: relative L2 " << error << "\n";
  EXPECT_LT(error, 5e-2);
  expect_generates(*model, dir.parent_path() / "fp8.y4m");
}

// ModelOptions::dit_fp8: the DiT's linears quantised as they load, close to the full-precision
// DiT's output; the run record says so and a dense run of the full-precision DiT is not reused.
TEST(WanModel, DitFp8QuantisesAsItLoads) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_dit_fp8") / "model");
  ModelOptions options;
  options.dit_fp8 = true;
  auto model = Model::load(dir, c10::Device(c10::kCPU), options);
  EXPECT_TRUE(model->dit_fp8);
  EXPECT_EQ(model->dit->weights().blocks[1].ffn_2_weight.scalar_type(), at::kFloat8_e4m3fn);
  const double error = reference_error(*model);
  std::cout << "[ measured ] DiT quantised to fp8 at load vs reference: relative L2 " << error << "\n";
  EXPECT_GT(error, 0.0);
  EXPECT_LT(error, 5e-2);

  EventSink sink;
  CancelToken cancel;
  const GenerationResult result = Generator(*model).run(tiny_request(), sink, cancel);
  ASSERT_EQ(result.status, GenerationStatus::Finished) << result.error;
  nlohmann::json record = make_run_record(result, *model);
  EXPECT_TRUE(record["device"].value("dit_fp8", false));
  const nlohmann::json key = dense_cache_key(record);
  record["device"].erase("dit_fp8");
  EXPECT_NE(dense_cache_key(record), key);
}

TEST(WanModel, MemoryOptionsPlaceAndFreeTheTextEncoder) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_options") / "model");
  ModelOptions options;
  options.text_encoder_device = c10::Device(c10::kCPU);
  options.vae_device = c10::Device(c10::kCPU);
  options.free_text_encoder = true;
  auto model = Model::load(dir, c10::Device(c10::kCPU), options);
  const auto& encoder = dynamic_cast<const WanTextEncoder&>(*model->text_encoder);
  EXPECT_TRUE(encoder.loaded());
  expect_generates(*model, dir.parent_path() / "options.y4m");
  EXPECT_FALSE(encoder.loaded());
  // Without the option the encoder stays.
  auto kept = Model::load(dir, c10::Device(c10::kCPU));
  expect_generates(*kept, dir.parent_path() / "kept.y4m");
  EXPECT_TRUE(dynamic_cast<const WanTextEncoder&>(*kept->text_encoder).loaded());
}

}  // namespace
}  // namespace svgear
