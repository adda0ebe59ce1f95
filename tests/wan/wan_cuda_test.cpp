// Wan folders of both layouts — Wan 2.1 (also as ComfyUI's scaled fp8, dequantised on the GPU),
// Wan2.2-TI2V with the 2.2 VAE and Wan2.2-A14B's pairs of experts in their three layouts — loaded
// on CUDA and generated end to end there with dense, SVG2 and SVG-EAR attention into a video file: the dense
// video against the same request's fp32 CPU video, the sparse ones at top_p 1 (every block routed,
// so the same attention up to summation order) against the dense one. Skipped without a GPU.

#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include "core/media/video_output.h"
#include "core/media/video_reader.h"
#include "core/metrics/video_quality.h"
#include "core/pipeline/generator.h"
#include "core/user_error.h"
#include "core/weights/safetensors_writer.h"
#include "tests/model/tiny_wan.h"
#include "tests/support/test_paths.h"
#include "tests/wan/tiny_wan_folder.h"

namespace svgear {
namespace {

namespace fs = std::filesystem;

// The DiT runs in bf16 on CUDA and in fp32 on the CPU (the VAE in fp32 on both). Guidance 1 (no
// unconditional pass) keeps the guidance scale from multiplying bf16's rounding. Measured on an
// H200: 55.5–58.0 dB for the folders (44.4–46.5 dB while the VAE decoded in bf16 there); the floor
// leaves about 20 dB of room.
constexpr double kBFloat16MinPsnrDb = 35.0;
// Sparse attention with every block routed is dense attention summed in another order: the 8-bit
// videos came out identical on an H200; a pixel off by one here and there would still be ~60 dB.
constexpr double kAllBlocksMinPsnrDb = 50.0;

struct WanFolderCase {
  const char* name;
  fs::path (*write)(const fs::path&);
  int height, width;  // a size each model's VAE and patch divide
  bool pair = false;   // Wan2.2-A14B's two experts
};

fs::path write_a14b_diffusers(const fs::path& dir) { return test::write_tiny_wan_a14b_diffusers(dir); }

const WanFolderCase kCases[] = {
    {"wan21_original", test::write_tiny_wan_original, 32, 48},
    {"wan21_diffusers", test::write_tiny_wan_diffusers, 32, 48},
    {"wan21_fp8_scaled", test::write_tiny_wan_fp8_scaled, 32, 48},
    {"ti2v_original", test::write_tiny_wan22_ti2v_original, 32, 64},
    {"ti2v_diffusers", test::write_tiny_wan22_ti2v_diffusers, 32, 64},
    {"a14b_comfy", test::write_tiny_wan_a14b_comfy, 32, 48, true},
    {"a14b_wan_ai", test::write_tiny_wan_a14b_wan_ai, 32, 48, true},
    {"a14b_diffusers", write_a14b_diffusers, 32, 48, true},
};

GenerationRequest request_for(const WanFolderCase& c, AttentionMode mode) {
  GenerationRequest r;
  r.prompt = "a red cat walks on the grass";
  r.seed = 5;
  r.steps = 2;
  r.guidance = 1.0;
  if (c.pair) r.low_noise_guidance = 1.0;
  // Shift 5 (a pair's default is 12): of the two steps the first (timestep 999) runs on a pair's
  // high-noise expert, the second (833, below 875) on its low-noise one.
  r.shift = 5.0;
  r.frames = 5;  // 2 latent frames
  r.height = c.height;
  r.width = c.width;
  r.attention.mode = mode;
  // Sparse from the first step, with fewer clusters than the tiny models have tokens, so k-means,
  // the probe, routing and the block-sparse kernel all run; top_p 1 routes every block.
  r.attention.q_clusters = 2;
  r.attention.k_clusters = 3;
  r.attention.top_p = 1.0;
  r.attention.dense_warmup_steps = 0.0;
  // Every layer and head traced, layer 1 also run densely: the traces show that the sparse path ran
  // (a dense fallback sends none) and how far its output is from dense attention. Layer 0 is dense
  // whatever the request (at least one dense layer), so the tiny models' layer 1 is their sparse one.
  r.routing_trace.enabled = mode != AttentionMode::Dense;
  r.routing_trace.audit_layers = {1};
  return r;
}

// What a run reports besides its video: its warnings (a sparse mode that misses its kernel says so)
// and each step's routing traces.
struct RunReport : EventSink {
  void on_warning(const std::string& line) override { warnings.push_back(line); }
  void on_routing(RoutingEvent event) override { routing.push_back(std::move(event)); }
  std::vector<std::string> warnings;
  std::vector<RoutingEvent> routing;
};

// Generates `request` into `video` and through a video file; a failed generation stops the test.
void generate(Model& model, const GenerationRequest& request, const fs::path& out, Video& video,
              RunReport* report = nullptr) {
  RunReport own_report;
  RunReport& sink = report ? *report : own_report;
  CancelToken cancel;
  const GenerationResult result = Generator(model).run(request, sink, cancel);
  ASSERT_EQ(result.status, GenerationStatus::Finished) << result.error;
  EXPECT_EQ(result.video.frames, 5);
  EXPECT_EQ(result.video.height, request.height.value());
  EXPECT_EQ(result.video.width, request.width.value());
  const VideoOutputResult written = write_video(result.video, out);
  const Video back = read_video(written.path);
  EXPECT_EQ(back.frames, 5);
  EXPECT_EQ(back.width, request.width.value());
  video = result.video;
}

// Whether every weight of `dit` waits in page-locked host memory (WanWeights::page_lock).
bool all_page_locked(const WanDiT& dit) {
  for (const auto& [name, tensor] : dit.weights().state_dict()) {
    if (!tensor.device().is_cpu() || !tensor.is_pinned()) return false;
  }
  return true;
}

// The sparse path of `mode` ran on the GPU's kernels in every step, sparse layer (all but layer 0)
// and head of `report`'s run (request_for's two steps, 2 query and 3 key clusters, every block
// routed), and its output in the audited layer 1 is dense attention's up to bf16 rounding.
void expect_sparse_path_ran(const RunReport& report, const Model& model, AttentionMode mode) {
  EXPECT_TRUE(report.warnings.empty()) << report.warnings.front();  // e.g. "runs through the ATen reference"
  const int layers = int(model.dit->config().num_layers), heads = int(model.dit->config().num_heads);
  ASSERT_EQ(report.routing.size(), 2u);
  for (const RoutingEvent& event : report.routing) {
    SCOPED_TRACE(event.step);
    ASSERT_EQ(event.traces.size(), size_t((layers - 1) * heads));
    for (const RoutingTrace& trace : event.traces) {
      EXPECT_GE(trace.layer, 1);
      EXPECT_EQ(trace.q_clusters, 2);
      EXPECT_EQ(trace.k_clusters, 3);
      // Every block of a query cluster with tokens; none of an empty one (the low-noise expert's
      // first step starts from the high-noise expert's centroids, and one of 2 may catch no token).
      ASSERT_EQ(trace.q_sizes.size(), 2u);
      std::vector<uint8_t> routed;
      for (int64_t size : trace.q_sizes) routed.insert(routed.end(), 3, size > 0 ? 1 : 0);
      EXPECT_EQ(trace.block_map, routed);
      EXPECT_GT(trace.q_sizes[0] + trace.q_sizes[1], 0);
      EXPECT_DOUBLE_EQ(trace.density, 1.0);
      // SVG2 has no error probe; SVG-EAR's estimates every block.
      EXPECT_EQ(trace.block_log_error.size(), mode == AttentionMode::SvgEar ? 6u : 0u);
      if (trace.layer == 1) {
        EXPECT_LT(trace.measured_relative_l2, 2e-2) << "layer 1, head " << trace.head;
      } else {
        EXPECT_TRUE(std::isnan(trace.measured_relative_l2));
      }
    }
  }
}

TEST(WanCuda, EveryLayoutGeneratesOnTheGpuLikeOnTheCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for (const WanFolderCase& c : kCases) {
    SCOPED_TRACE(c.name);
    const fs::path dir = c.write(test::scratch_dir(std::string("wan_cuda_") + c.name) / "model");
    auto cpu = Model::load(dir, c10::Device(c10::kCPU));
    auto gpu = Model::load(dir, c10::Device(c10::kCUDA));
    EXPECT_EQ(gpu->device, c10::Device(c10::kCUDA, 0));  // "cuda" is cuda:0, as the CLI parses it
    EXPECT_EQ(gpu->dtype, at::kBFloat16);
    EXPECT_EQ(gpu->manifest.description, cpu->manifest.description);

    const GenerationRequest dense = request_for(c, AttentionMode::Dense);
    Video on_cpu, on_gpu;
    ASSERT_NO_FATAL_FAILURE(generate(*cpu, dense, dir.parent_path() / "cpu.y4m", on_cpu));
    ASSERT_NO_FATAL_FAILURE(generate(*gpu, dense, dir.parent_path() / "gpu.y4m", on_gpu));
    const VideoQuality q = compare_videos(on_cpu, on_gpu);
    std::cout << "[ measured ] " << c.name << ": CUDA bf16 vs CPU fp32 video " << format_psnr_db(q.mean_psnr_db)
              << ", SSIM " << q.mean_ssim << "\n";
    EXPECT_GE(q.mean_psnr_db, kBFloat16MinPsnrDb);

    for (AttentionMode mode : {AttentionMode::Svg2, AttentionMode::SvgEar}) {
      const std::string mode_name = attention_mode_name(mode);
      Video sparse;
      RunReport report;
      ASSERT_NO_FATAL_FAILURE(
          generate(*gpu, request_for(c, mode), dir.parent_path() / (mode_name + ".y4m"), sparse, &report));
      const VideoQuality s = compare_videos(on_gpu, sparse);
      std::cout << "[ measured ] " << c.name << ": CUDA " << mode_name << " vs CUDA dense "
                << format_psnr_db(s.mean_psnr_db) << "\n";
      EXPECT_GE(s.mean_psnr_db, kAllBlocksMinPsnrDb) << mode_name;
      ASSERT_NO_FATAL_FAILURE(expect_sparse_path_ran(report, *gpu, mode));
    }
  }
}

// Wan2.2-A14B with the idle expert in host memory: one expert on the GPU at a time, swapped at the
// boundary step and back at the next run's first, and the video bit for bit the one of a pair kept
// wholly on the GPU (the same bf16 weights, moved).
TEST(WanCuda, AnIdleExpertWaitsInHostMemory) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const fs::path dir = test::write_tiny_wan_a14b_comfy(test::scratch_dir("wan_cuda_idle_expert") / "model");
  const WanFolderCase pair{"a14b_comfy", nullptr, 32, 48, true};
  GenerationRequest request = request_for(pair, AttentionMode::SvgEar);
  request.low_noise_guidance = 3.0;  // the unconditional pass runs on the low-noise steps too
  auto resident = Model::load(dir, c10::Device(c10::kCUDA));
  EXPECT_FALSE(resident->idle_expert_on_cpu);
  Video both_on_gpu;
  ASSERT_NO_FATAL_FAILURE(generate(*resident, request, dir.parent_path() / "resident.y4m", both_on_gpu));
  resident.reset();

  ModelOptions options;
  options.idle_expert_on_cpu = true;
  auto model = Model::load(dir, c10::Device(c10::kCUDA), options);
  ASSERT_TRUE(model->idle_expert_on_cpu);
  EXPECT_TRUE(model->dit->device().is_cuda());
  EXPECT_TRUE(model->low_noise_dit->device().is_cpu());
  EXPECT_TRUE(model->idle_expert_page_locked);
  EXPECT_TRUE(all_page_locked(*model->low_noise_dit));  // waits in page-locked memory from the load on
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run);
    Video swapped;
    ASSERT_NO_FATAL_FAILURE(generate(*model, request, dir.parent_path() / "swapped.y4m", swapped));
    EXPECT_TRUE(swapped.rgb == both_on_gpu.rgb);
    EXPECT_TRUE(model->dit->device().is_cpu());  // the last step ran on the low-noise expert
    EXPECT_TRUE(all_page_locked(*model->dit));   // in the memory the low-noise expert left
    EXPECT_TRUE(model->low_noise_dit->device().is_cuda());
  }
}

// A pair whose experts are stored differently (one scaled fp8, one fp32) runs with both on the GPU;
// the idle expert option, which trades their tensors one for one, is refused with what to do.
TEST(WanCuda, AnIdleExpertNeedsExpertsStoredAlike) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const fs::path dir = test::write_tiny_wan_a14b_comfy(test::scratch_dir("wan_cuda_mixed_pair") / "model");
  fs::remove(dir / "wan2.2_t2v_high_noise_tiny_fp32.safetensors");
  write_safetensors(dir / "wan2.2_t2v_high_noise_tiny_fp8_scaled.safetensors",
                    test::tiny_wan_scaled_fp8("model.diffusion_model.").stored);
  ModelOptions options;
  options.idle_expert_on_cpu = true;
  try {
    (void)Model::load(dir, c10::Device(c10::kCUDA), options);
    ADD_FAILURE() << "expected the idle expert option to be refused";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("the two experts are not stored alike"), std::string::npos) << e.what();
  }
  auto model = Model::load(dir, c10::Device(c10::kCUDA));
  EXPECT_EQ(model->dit->weights().blocks[0].ffn_0_weight.scalar_type(), at::kFloat8_e4m3fn);
  EXPECT_EQ(model->low_noise_dit->weights().blocks[0].ffn_0_weight.scalar_type(), at::kBFloat16);
  // Each expert generates as it is stored: the pair's dense video against the fp32 CPU one, and its
  // SVG-EAR video (every block routed) against the dense one, through the kernels on both experts.
  const WanFolderCase pair{"a14b_mixed", nullptr, 32, 48, true};
  auto cpu = Model::load(dir, c10::Device(c10::kCPU));
  Video on_cpu, dense, sparse;
  ASSERT_NO_FATAL_FAILURE(
      generate(*cpu, request_for(pair, AttentionMode::Dense), dir.parent_path() / "mixed-cpu.y4m", on_cpu));
  ASSERT_NO_FATAL_FAILURE(
      generate(*model, request_for(pair, AttentionMode::Dense), dir.parent_path() / "mixed-dense.y4m", dense));
  EXPECT_GE(compare_videos(on_cpu, dense).mean_psnr_db, kBFloat16MinPsnrDb);
  RunReport report;
  ASSERT_NO_FATAL_FAILURE(generate(*model, request_for(pair, AttentionMode::SvgEar),
                                   dir.parent_path() / "mixed-svgear.y4m", sparse, &report));
  EXPECT_GE(compare_videos(dense, sparse).mean_psnr_db, kAllBlocksMinPsnrDb);
  ASSERT_NO_FATAL_FAILURE(expect_sparse_path_ran(report, *model, AttentionMode::SvgEar));
}

// A pair stored alike (both scaled fp8) but for one scale no scaled fp8 file stores: the idle expert
// option is refused for that scale, named, not for experts "not stored alike" (what the layouts,
// which leave such a weight out, said before the scales were checked first).
TEST(WanCuda, AnIdleExpertPairWithABadScaleNamesTheScale) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const fs::path dir = test::write_tiny_wan_a14b_comfy(test::scratch_dir("wan_cuda_bad_scale_pair") / "model");
  fs::remove(dir / "wan2.2_t2v_high_noise_tiny_fp32.safetensors");
  fs::remove(dir / "wan2.2_t2v_low_noise_tiny_fp32.safetensors");
  const auto scaled = test::tiny_wan_scaled_fp8("model.diffusion_model.").stored;
  write_safetensors(dir / "wan2.2_t2v_high_noise_tiny_fp8_scaled.safetensors", scaled);
  auto misshapen = scaled;
  for (auto& [name, tensor] : misshapen) {
    if (name == "model.diffusion_model.blocks.0.self_attn.q.scale_weight") tensor = at::ones({3});
  }
  write_safetensors(dir / "wan2.2_t2v_low_noise_tiny_fp8_scaled.safetensors", misshapen);
  ModelOptions options;
  options.idle_expert_on_cpu = true;
  try {
    (void)Model::load(dir, c10::Device(c10::kCUDA), options);
    ADD_FAILURE() << "expected the bad scale to be refused";
  } catch (const UserError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("wrong scale: model.diffusion_model.blocks.0.self_attn.q.scale_weight"), std::string::npos)
        << message;
    EXPECT_NE(message.find("wan2.2_t2v_low_noise_tiny_fp8_scaled.safetensors"), std::string::npos) << message;
    EXPECT_EQ(message.find("not stored alike"), std::string::npos) << message;
  }
}

// --dit-fp8 on the GPU: each block linear quantised to e4m3 on the device as it loads, the video
// against the same quantisation's fp32 CPU video; and Wan2.2-A14B's idle expert with it, whose two
// experts come out stored alike (e4m3 both), so the pair swaps and gives the resident pair's video.
TEST(WanCuda, DiffusionModelInFp8QuantisesOnTheGpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  ModelOptions fp8;
  fp8.dit_fp8 = true;
  {
    const WanFolderCase single = kCases[0];
    const fs::path dir = single.write(test::scratch_dir("wan_cuda_dit_fp8") / "model");
    auto cpu = Model::load(dir, c10::Device(c10::kCPU), fp8);
    auto gpu = Model::load(dir, c10::Device(c10::kCUDA), fp8);
    EXPECT_TRUE(gpu->dit_fp8);
    const at::Tensor& ffn = gpu->dit->weights().blocks[0].ffn_0_weight;
    EXPECT_TRUE(ffn.is_cuda());
    EXPECT_EQ(ffn.scalar_type(), at::kFloat8_e4m3fn);
    const GenerationRequest dense = request_for(single, AttentionMode::Dense);
    Video on_cpu, on_gpu;
    ASSERT_NO_FATAL_FAILURE(generate(*cpu, dense, dir.parent_path() / "cpu.y4m", on_cpu));
    ASSERT_NO_FATAL_FAILURE(generate(*gpu, dense, dir.parent_path() / "gpu.y4m", on_gpu));
    const VideoQuality q = compare_videos(on_cpu, on_gpu);
    std::cout << "[ measured ] --dit-fp8: CUDA bf16 vs CPU fp32 video " << format_psnr_db(q.mean_psnr_db) << "\n";
    EXPECT_GE(q.mean_psnr_db, kBFloat16MinPsnrDb);
  }

  const fs::path dir = test::write_tiny_wan_a14b_comfy(test::scratch_dir("wan_cuda_idle_fp8") / "model");
  const WanFolderCase pair{"a14b_comfy", nullptr, 32, 48, true};
  const GenerationRequest request = request_for(pair, AttentionMode::SvgEar);
  Video resident_video;
  {
    auto resident = Model::load(dir, c10::Device(c10::kCUDA), fp8);
    ASSERT_NO_FATAL_FAILURE(generate(*resident, request, dir.parent_path() / "resident.y4m", resident_video));
  }
  ModelOptions idle = fp8;
  idle.idle_expert_on_cpu = true;
  auto model = Model::load(dir, c10::Device(c10::kCUDA), idle);
  ASSERT_TRUE(model->idle_expert_on_cpu);
  EXPECT_TRUE(model->dit_fp8);
  EXPECT_EQ(model->low_noise_dit->weights().blocks[0].ffn_0_weight.scalar_type(), at::kFloat8_e4m3fn);
  EXPECT_TRUE(model->idle_expert_page_locked);
  EXPECT_TRUE(all_page_locked(*model->low_noise_dit));
  Video swapped;
  ASSERT_NO_FATAL_FAILURE(generate(*model, request, dir.parent_path() / "swapped.y4m", swapped));
  EXPECT_TRUE(swapped.rgb == resident_video.rgb);
  EXPECT_EQ(model->dit->weights().blocks[0].ffn_0_weight.scalar_type(), at::kFloat8_e4m3fn);
  EXPECT_TRUE(model->dit->device().is_cpu());
}

}  // namespace
}  // namespace svgear
