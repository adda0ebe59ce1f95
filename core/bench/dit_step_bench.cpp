#include "core/bench/dit_step_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <utility>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/DeviceAccelerator.h>
#include <c10/core/Allocator.h>

#include "core/attention/attention_backends.h"
#include "core/attention/attention_preset.h"
#include "core/attention/routing_trace.h"
#include "core/attention/sparse_schedule.h"
#include "core/attention/svg2_backend.h"
#include "core/bench/measurement.h"
#include "core/decoder/wan_vae_decoder.h"
#include "core/model/wan_dit.h"
#include "core/model/wan_random_weights.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/out_of_memory.h"
#include "core/pipeline/request_limits.h"
#include "core/pipeline/weight_memory.h"
#include "core/text/nearest_words.h"
#include "core/text/umt5_encoder.h"
#include "core/weights/random_weight.h"
#include "core/user_error.h"

namespace svgear {
namespace {

using Clock = std::chrono::steady_clock;

struct StepShape {
  std::string name;
  WanConfig config;
  std::array<int64_t, 3> latent;  // frames, height, width of the latent
  int64_t text_tokens = 0;
  int q_clusters = 0, k_clusters = 0;
  Umt5Config text;    // Wan's umT5-XXL unless set
  WanVaeConfig vae;   // the Wan 2.1 VAE unless set
};

// The bench's prompt: its tokens with EOS (the negative prompt is empty: EOS alone).
constexpr int64_t kPromptTokens = 24;

std::vector<StepShape> step_shapes() {
  StepShape wan;  // Wan2.1-T2V-1.3B at 480×832, 81 frames: latent 21×60×104, 32760 tokens
  wan.name = "wan1.3b-480p";
  wan.latent = {21, 60, 104};
  wan.text_tokens = 512;
  wan.q_clusters = 200;
  wan.k_clusters = 1000;
  StepShape wan14b;  // Wan2.1-T2V-14B at 720×1280, 81 frames: latent 21×90×160, 75600 tokens
  wan14b.name = "wan14b-720p";
  wan14b.config.dim = 5120;
  wan14b.config.ffn_dim = 13824;
  wan14b.config.num_heads = 40;
  wan14b.config.num_layers = 40;
  wan14b.latent = {21, 90, 160};
  wan14b.text_tokens = 512;
  wan14b.q_clusters = 300;  // SVG-EAR's Wan 720p setting [spec §3.6]
  wan14b.k_clusters = 1000;
  StepShape tiny;  // seconds on a CPU, for tests
  tiny.name = "tiny";
  tiny.config.dim = 64;
  tiny.config.ffn_dim = 128;
  tiny.config.freq_dim = 32;
  tiny.config.text_dim = 32;
  tiny.config.text_len = 16;
  tiny.config.num_heads = 2;
  tiny.config.num_layers = 3;
  tiny.latent = {5, 16, 16};  // 5 × 8 × 8 = 320 tokens
  tiny.text_tokens = 16;
  tiny.q_clusters = 8;
  tiny.k_clusters = 32;
  tiny.text = {.vocab = 1000, .dim = 32, .dim_attn = 32, .dim_ffn = 64, .num_heads = 2, .num_layers = 2};
  tiny.vae.base_dim = 8;
  tiny.vae.num_res_blocks = 1;
  return {wan, wan14b, tiny};
}

class DensitySummary : public RoutingTraceSink {
 public:
  void on_trace(RoutingTrace&& trace) override {
    sum_ += trace.density;
    ++count_;
  }
  std::optional<double> mean() const { return count_ ? std::optional(sum_ / count_) : std::nullopt; }

 private:
  double sum_ = 0.0;
  int count_ = 0;
};

struct StepInputs {
  at::Tensor latent, t, cond, uncond;
};

// One denoising step: the conditional and the unconditional forward from one shared prefix, as the
// Generator runs them. Returns the guided velocity.
at::Tensor denoising_step(const WanDiT& dit, AttentionBackend& backend, const StepInputs& in, int step,
                          int num_steps, const CancelToken* cancel) {
  DiTForward call;
  call.attention = &backend;
  call.cancel = cancel;
  call.step = step;
  call.num_steps = num_steps;
  call.branch = CfgBranch::Cond;
  DiTPrefix prefix = dit.forward_prefix(in.latent, in.t, call);
  const at::Tensor cond = dit.forward_from(prefix, in.cond, call);
  call.branch = CfgBranch::Uncond;
  const at::Tensor uncond = dit.forward_from(std::move(prefix), in.uncond, call);
  return uncond + 5.0 * (cond - uncond);
}

double gib(const at::Tensor& t) { return double(t.numel() * t.element_size()) / double(int64_t(1) << 30); }

// CUDA: the peak allocated since the last resetPeakStats; nothing elsewhere.
std::optional<double> peak_allocated_gib(c10::Device device) {
  if (!device.is_cuda()) return std::nullopt;
  const auto stats = at::accelerator::getDeviceStats(device.index());
  const auto aggregate = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
  return double(stats.allocated_bytes[aggregate].peak) / double(int64_t(1) << 30);
}

// Runs `stage` twice (the first pays one-time initialisation, as the model's first use in a
// session does) and times the second; the peak covers both.
template <typename Stage>
void time_stage(c10::Device device, PipelineStageTiming& timing, const CancelToken* cancel, Stage&& stage) {
  if (device.is_cuda()) at::accelerator::resetPeakStats(device.index());
  stage();
  synchronize(device);
  if (cancel) cancel->throw_if_cancelled();
  const auto start = Clock::now();
  stage();
  synchronize(device);
  timing.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  timing.peak_memory_gib = peak_allocated_gib(device);
}

// umT5 on the prompt and the negative prompt (a short prompt and an empty one, padded to the
// context length, as Wan's encoder call is).
void time_text_encoder(const StepShape& shape, const DitStepBenchOptions& options, DitStepBenchResult& result) {
  Umt5Weights weights = random_weights<Umt5Weights>(shape.text, options.seed + 2, options.device, options.dtype);
  weights.for_each_tensor([&](const std::string&, at::Tensor& t) { result.text_encoder.weights_gib += gib(t); });
  const Umt5Encoder encoder(std::move(weights));
  const int64_t length = shape.text_tokens;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(options.seed + 3);
  const at::Tensor ids = at::randint(1, shape.text.vocab, {2, length}, gen, at::TensorOptions().dtype(at::kLong));
  const at::Tensor mask = at::zeros({2, length}, at::TensorOptions().dtype(at::kLong));
  mask[0].narrow(0, 0, std::min(kPromptTokens, length)).fill_(1);  // a 24-token prompt
  mask[1].narrow(0, 0, 1).fill_(1);                               // the empty negative prompt: </s>
  const at::Tensor device_ids = ids.to(options.device), device_mask = mask.to(options.device);
  time_stage(options.device, result.text_encoder, options.cancel, [&] { encoder.forward(device_ids, device_mask); });
}

// The whole latent through the pipeline's decoder (float32; whole frames on a GPU, tiles on the
// CPU; the 8-bit conversion, the copy to the host), as the end of a generation.
void time_vae_decode(const StepShape& shape, const DitStepBenchOptions& options, DitStepBenchResult& result) {
  WanVaeWeights weights = random_weights<WanVaeWeights>(shape.vae, options.seed + 4, options.device, at::kFloat);
  weights.for_each_tensor([&](const std::string&, at::Tensor& t) { result.vae_decode.weights_gib += gib(t); });
  const WanVaeDecoder decoder{WanVae(std::move(weights))};
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(options.seed + 5);
  const at::Tensor latent = at::randn({shape.vae.z_dim, shape.latent[0], shape.latent[1], shape.latent[2]}, gen,
                                      at::TensorOptions().dtype(at::kFloat)).to(options.device);
  Video video;
  DecodeReport report;
  time_stage(options.device, result.vae_decode, options.cancel,
             [&] { video = decoder.decode(latent, 16.0, options.cancel, &report); });
  result.vae_frames = report.tiles_after_out_of_memory ? "tiles after running out of memory"
                      : options.device.is_cuda()       ? "whole"
                                                       : "tiles";
  result.video_frames = video.frames;
  result.video_height = video.height;
  result.video_width = video.width;
}

// The stages run one after another, so the largest one must fit: umT5-XXL's random weights (10.6
// GiB in bf16, 21 in float32), or the DiT's (27 GiB for wan14b-720p in bf16) with what a step with
// guidance holds beside them (step_bytes_to_check, as a generation checks it). Refused before
// anything is drawn, rather than as an allocator error, or the kernel's OOM killer on the CPU,
// minutes in.
void check_largest_stage_fits(const StepShape& shape, const DitStepBenchOptions& options) {
  const std::optional<int64_t> free =
      options.device.is_cpu() ? available_host_memory() : free_device_memory(options.device);
  if (!free) return;
  int64_t text = 0;
  Umt5Weights::meta(shape.text).for_each_tensor([&](const std::string&, at::Tensor& t) { text += t.numel(); });
  text *= int64_t(c10::elementSize(options.dtype));
  const LatentShape latent{int(shape.config.in_dim), int(shape.latent[0]), int(shape.latent[1]), int(shape.latent[2])};
  const int64_t weights = wan_dit_bytes(shape.config, options.dtype);
  const int64_t step = step_bytes_to_check(latent, shape.config, options.dtype, /*guidance=*/true, options.device);
  const int64_t needed = std::max(weights + step, text);
  if (needed <= *free) return;
  // svgear::gib: the message's sizes as the weight check's (this file's gib measures tensors).
  const std::string what = weights + step >= text
                               ? "the diffusion model's weights (" + svgear::gib(weights) + ") and " +
                                     (options.device.is_cpu() ? "about " : "at least ") + svgear::gib(step) +
                                     " of a step's activations"
                               : "the text encoder's weights";
  throw UserError("bench step --shape " + shape.name + " needs about " + svgear::gib(needed) + " of " +
                  options.device.str() + " memory for " + what + " (its largest stage) but " +
                  svgear::gib(*free) + " are free: choose a smaller --shape" +
                  (options.device.is_cpu() ? " or a GPU (--device cuda)" : " or close other programs using the GPU"));
}

// The steps a mode runs sit past the schedule's dense warm-up, so that the sparse modes run sparse:
// the cold step, the timed ones, and one more (the density's traced step, or the profiled one).
// Each count is bounded first, so nothing below overflows; a schedule too short for the steps is
// refused rather than lengthened, which would time (and estimate) another schedule than the one
// asked for.
void check_step_counts(int timed_steps, int num_steps, double dense_warmup_fraction) {
  if (timed_steps < 1 || timed_steps > kMaxSteps) {
    throw UserError("--steps must be between 1 and " + std::to_string(kMaxSteps) + ", got " +
                    std::to_string(timed_steps));
  }
  if (num_steps < 1 || num_steps > kMaxSteps) {
    throw UserError("--num-steps must be between 1 and " + std::to_string(kMaxSteps) + " (a generation's longest "
                    "schedule), got " + std::to_string(num_steps));
  }
  // schedule − its warm-up never shrinks as the schedule grows: the first schedule that holds the
  // steps is the shortest.
  const auto most_timed = [&](int schedule) {
    return schedule - dense_step_count(dense_warmup_fraction, schedule) - 2;
  };
  if (timed_steps <= most_timed(num_steps)) return;
  char warmup[48];
  std::snprintf(warmup, sizeof warmup, "%g%%", 100.0 * dense_warmup_fraction);
  // Said for a dense-only bench too, whose steps are the ones a sparse mode would time.
  const std::string why = " (every mode times the same steps: the cold step and the timed ones follow the schedule's "
                          "dense warm-up, its first " + std::string(warmup) +
                          ", where sparse modes run sparse, and one untimed step follows them)";
  if (most_timed(kMaxSteps) < 1) {
    throw UserError("a dense warm-up of " + std::string(warmup) + " of the schedule leaves no step to time");
  }
  if (timed_steps > most_timed(kMaxSteps)) {
    throw UserError("--steps " + std::to_string(timed_steps) + " does not fit in the longest schedule, --num-steps " +
                    std::to_string(kMaxSteps) + ", which holds at most --steps " + std::to_string(most_timed(kMaxSteps)) +
                    why);
  }
  int shortest = num_steps + 1;
  while (timed_steps > most_timed(shortest)) ++shortest;
  const std::string held = "--num-steps " + std::to_string(num_steps) +
                           (most_timed(num_steps) >= 1 ? " holds at most --steps " + std::to_string(most_timed(num_steps))
                                                       : " holds no timed step");
  throw UserError("--steps " + std::to_string(timed_steps) + " needs --num-steps " + std::to_string(shortest) +
                  " or more" + why + "; " + held);
}

}  // namespace

std::vector<std::string> dit_step_bench_shapes() {
  std::vector<std::string> names;
  for (const StepShape& s : step_shapes()) names.push_back(s.name);
  return names;
}

DitStepBenchResult run_dit_step_bench(const DitStepBenchOptions& options) {
  const std::vector<StepShape> shapes = step_shapes();
  const auto shape_it = std::find_if(shapes.begin(), shapes.end(), [&](const StepShape& s) { return s.name == options.shape; });
  if (shape_it == shapes.end()) {
    const std::vector<std::string> names = dit_step_bench_shapes();
    throw UserError("unknown step bench shape '" + options.shape + "' (" + typo_hint(options.shape, names) +
                    "choose " + alternatives(names, "", "") + ")");
  }
  // Dense runs first, whatever was asked: it is the reference for the error and the speedup. A mode
  // named twice would be timed twice under one label.
  std::vector<AttentionMode> modes = {AttentionMode::Dense};
  for (auto it = options.modes.begin(); it != options.modes.end(); ++it) {
    if (std::find(options.modes.begin(), it, *it) != it) {
      throw UserError("--modes names " + std::string(attention_mode_name(*it)) + " twice: each mode runs once");
    }
    if (*it != AttentionMode::Dense) modes.push_back(*it);
  }
  const StepShape& shape = *shape_it;
  const WanConfig& config = shape.config;

  AttentionConfig sparse = options.base;
  if (sparse.q_clusters <= 0) sparse.q_clusters = shape.q_clusters;
  if (sparse.k_clusters <= 0) sparse.k_clusters = shape.k_clusters;
  check_attention_config(sparse);
  check_step_counts(options.timed_steps, options.num_steps, sparse.dense_warmup_steps);
  const int num_steps = options.num_steps;
  const int warmup_steps = dense_step_count(sparse.dense_warmup_steps, num_steps);

  DitStepBenchResult result;
  result.shape = shape.name;
  result.device = options.device.str();
  result.dtype = c10::toString(options.dtype);
  result.layers = config.num_layers;
  result.heads = config.num_heads;
  result.head_dim = config.head_dim();
  result.tokens = int(shape.latent[0] / config.patch_size[0] * (shape.latent[1] / config.patch_size[1]) *
                      (shape.latent[2] / config.patch_size[2]));
  result.num_steps = num_steps;
  result.dense_warmup_steps = warmup_steps;
  result.seed = options.seed;
  result.top_p = sparse.top_p;

  const auto progress = [&](const std::string& what) {
    if (options.on_progress) options.on_progress(what);
  };
  // Stage by stage, as a generation holds them (a stage's weights are freed before the next).
  check_largest_stage_fits(shape, options);
  if (options.expert_swap) {  // the idle expert waits in host memory: past it, the OOM killer ends the bench
    const int64_t idle_bytes = wan_dit_bytes(config, options.dtype, options.fp8 ? WanWeights::every_block_linear(config)
                                                                                : WanWeights::Fp8Scales{});
    if (const std::optional<int64_t> available = available_host_memory(); available && *available < idle_bytes) {
      throw UserError("--expert-swap keeps a second DiT of " + gib(idle_bytes) + " in host memory, but " +
                      gib(*available) + " are available");
    }
  }
  progress("text encoder: random umT5 weights, two timed calls");
  time_text_encoder(shape, options, result);

  progress("diffusion model: random weights (" + std::to_string(config.num_layers) + " layers, dim " +
           std::to_string(config.dim) + ")");
  WanWeights weights = wan_random_weights(config, options.seed, options.device, options.dtype);
  if (options.fp8) weights.keep_block_linears_in_fp8();
  result.fp8 = options.fp8;
  auto dit = std::make_unique<WanDiT>(config, std::move(weights));
  dit->weights().for_each_tensor([&](const std::string&, const at::Tensor& t, WeightPrecision) {
    result.weights_gib += gib(t);
  });

  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(options.seed + 1);
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  StepInputs in;
  in.latent = at::randn({1, config.in_dim, shape.latent[0], shape.latent[1], shape.latent[2]}, gen, f32)
                  .to(options.device);
  in.t = at::full({1}, 500.0, f32).to(options.device);
  // The encoder's rows of the real tokens, as a generation passes them (the DiT pads them as
  // upstream): the 24-token prompt and the empty negative prompt (</s>) of time_text_encoder.
  const int64_t prompt_tokens = std::min(kPromptTokens, shape.text_tokens);
  in.cond = at::randn({1, prompt_tokens, config.text_dim}, gen, f32).to(options.device, options.dtype);
  in.uncond = at::randn({1, 1, config.text_dim}, gen, f32).to(options.device, options.dtype);

  at::Tensor reference;  // the first mode's last velocity
  for (const AttentionMode mode : modes) {
    AttentionConfig attention = sparse;
    attention.mode = mode;
    std::unique_ptr<AttentionBackend> backend = make_attention_backend(attention, options.device);
    DitStepBenchRow row;
    row.mode = mode;
    if (options.device.is_cuda()) at::accelerator::resetPeakStats(options.device.index());
    // Steps past the warm-up, so the sparse modes run sparse; the first one pays the cold k-means.
    at::Tensor velocity;
    for (int i = 0; i <= options.timed_steps; ++i) {
      progress(std::string(attention_mode_name(mode)) + ": step " + std::to_string(i + 1) + " of " +
               std::to_string(options.timed_steps + 1) + (i == 0 ? " (the cold one)" : ""));
      synchronize(options.device);
      const auto start = Clock::now();
      velocity = denoising_step(*dit, *backend, in, warmup_steps + i, num_steps, options.cancel);
      synchronize(options.device);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (i == 0) {
        row.cold_step_ms = ms;
      } else {
        row.step_ms_all.push_back(ms);
      }
    }
    row.step_ms = median(row.step_ms_all);
    if (options.profiled_step && mode == modes.back()) {
      progress(std::string(attention_mode_name(mode)) + ": one untimed step for a profiler");
      synchronize(options.device);
      if (options.device.is_cuda()) cuda_profiler(true);
      denoising_step(*dit, *backend, in, warmup_steps + options.timed_steps + 1, num_steps, options.cancel);
      synchronize(options.device);
      if (options.device.is_cuda()) cuda_profiler(false);
    }
    row.peak_memory_gib = peak_allocated_gib(options.device);
    if (auto* traced = dynamic_cast<Svg2Backend*>(backend.get())) {
      progress(std::string(attention_mode_name(mode)) + ": one traced step for the density");
      DensitySummary summary;
      TraceOptions trace;
      trace.enabled = true;
      traced->set_trace(trace, &summary);
      denoising_step(*dit, *backend, in, warmup_steps + options.timed_steps + 1, num_steps, options.cancel);
      traced->set_trace(TraceOptions{}, nullptr);
      row.density = summary.mean();
    }
    // Warm-up steps are dense whatever the mode; the first sparse step is the cold one.
    if (mode == AttentionMode::Dense) {
      row.generation_s = num_steps * row.step_ms / 1000.0;
    } else {
      row.generation_s = (warmup_steps * result.rows.front().step_ms + row.cold_step_ms +
                          (num_steps - warmup_steps - 1) * row.step_ms) / 1000.0;
    }
    if (!reference.defined()) {
      reference = velocity;
    } else {
      row.relative_l2 = relative_l2(velocity, reference);
    }
    result.rows.push_back(row);
  }
  if (options.expert_swap) {
    progress("expert swap: a copy of the DiT in host memory, two timed moves from pageable memory, then "
             "three from page-locked memory");
    // A copy of the same values: a move's time does not depend on them, and drawing 14B on the
    // CPU's generator would take minutes.
    auto idle = std::make_unique<WanDiT>(config, dit->weights());
    idle->to(c10::Device(c10::kCPU), options.dtype);
    int move = 0;  // even: the idle copy comes in; odd: it goes back
    const auto timed_move = [&] {
      WanDiT& arriving = move % 2 == 0 ? *idle : *dit;
      WanDiT& leaving = move % 2 == 0 ? *dit : *idle;
      ++move;
      synchronize(options.device);
      const auto start = Clock::now();
      WanDiT::swap_places(leaving, arriving, options.device, options.dtype);
      synchronize(options.device);
      return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    };
    // In and back through pageable memory (as upstream's offload_model moves), for the comparison.
    for (int i = 0; i < 2; ++i) result.expert_swap_pageable_ms.push_back(timed_move());
    const auto lock_start = Clock::now();
    result.expert_page_locked = idle->page_lock(options.device);
    result.expert_page_lock_ms = std::chrono::duration<double, std::milli>(Clock::now() - lock_start).count();
    for (int i = 0; i < 3; ++i) result.expert_swap_ms.push_back(timed_move());
  }
  dit.reset();
  progress("VAE decode: random weights, two timed calls");
  time_vae_decode(shape, options, result);
  for (DitStepBenchRow& row : result.rows) {
    row.total_s = (result.text_encoder.ms + result.vae_decode.ms) / 1000.0 + row.generation_s;
  }
  return result;
}

nlohmann::json DitStepBenchResult::to_json() const {
  nlohmann::json rows_json = nlohmann::json::array();
  for (const DitStepBenchRow& r : rows) {
    nlohmann::json j = {{"mode", attention_mode_name(r.mode)},
                        {"cold_step_ms", r.cold_step_ms},
                        {"step_ms", r.step_ms},
                        {"step_ms_all", r.step_ms_all},
                        {"generation_s_estimate", r.generation_s},
                        {"relative_l2_vs_first", r.relative_l2},
                        {"total_s_estimate", r.total_s}};
    j["density"] = r.density ? nlohmann::json(*r.density) : nlohmann::json(nullptr);
    j["peak_memory_gib"] = r.peak_memory_gib ? nlohmann::json(*r.peak_memory_gib) : nlohmann::json(nullptr);
    rows_json.push_back(j);
  }
  auto stage_json = [](const PipelineStageTiming& t) {
    return nlohmann::json{{"ms", t.ms}, {"weights_gib", t.weights_gib},
                          {"peak_memory_gib", t.peak_memory_gib ? nlohmann::json(*t.peak_memory_gib) : nlohmann::json(nullptr)}};
  };
  return {{"shape", shape},       {"device", device},   {"dtype", dtype},         {"layers", layers},
          {"heads", heads},       {"tokens", tokens},   {"head_dim", head_dim},   {"weights_gib", weights_gib},
          {"num_steps", num_steps}, {"dense_warmup_steps", dense_warmup_steps}, {"top_p", top_p}, {"seed", seed},
          {"text_encoder", stage_json(text_encoder)}, {"vae_decode", stage_json(vae_decode)}, {"vae_frames", vae_frames},
          {"video", {video_frames, video_height, video_width}}, {"rows", rows_json},
          {"expert_swap_ms", expert_swap_ms},
          {"expert_swap_pageable_ms", expert_swap_pageable_ms},
          // Null without --expert-swap: false would read as a refused lock.
          {"expert_page_lock_ms", expert_swap_ms.empty() ? nlohmann::json(nullptr) : nlohmann::json(expert_page_lock_ms)},
          {"expert_page_locked", expert_swap_ms.empty() ? nlohmann::json(nullptr) : nlohmann::json(expert_page_locked)},
          {"fp8", fp8}};
}

std::string DitStepBenchResult::table() const {
  std::string text;
  char line[400];
  std::snprintf(line, sizeof line,
                "shape %s: %d layers, %d heads × %d tokens × %d, weights %.2f GiB (%sseed %llu), %s, %s; a step = "
                "cond + uncond forward; %d-step schedule, %s",
                shape.c_str(), layers, heads, tokens, head_dim, weights_gib, fp8 ? "scaled fp8, " : "",
                static_cast<unsigned long long>(seed), device.c_str(), dtype.c_str(), num_steps,
                counted_noun(dense_warmup_steps, "dense warm-up step", "dense warm-up steps").c_str());
  text += line;
  const bool sparse =
      std::any_of(rows.begin(), rows.end(), [](const DitStepBenchRow& r) { return r.mode != AttentionMode::Dense; });
  if (sparse) {
    std::snprintf(line, sizeof line, "; sparse modes at top_p %.3g", top_p);
    text += line;
  }
  text += "\n";
  auto stage_line = [&](const char* what, const PipelineStageTiming& t) {
    char peak[32] = "not measured off a GPU";  // "peak n/a GiB" had read as a missing number
    if (t.peak_memory_gib) std::snprintf(peak, sizeof peak, "%.2f GiB", *t.peak_memory_gib);
    std::snprintf(line, sizeof line, "%s: %.1f ms, weights %.2f GiB, peak %s\n", what, t.ms, t.weights_gib, peak);
    text += line;
  };
  stage_line("text encoder (umT5, prompt + negative prompt)", text_encoder);
  char vae_what[160];
  const std::string covered = vae_frames == "whole" ? "whole frames" : "in " + vae_frames;
  std::snprintf(vae_what, sizeof vae_what, "VAE decode (to %d × %d × %d, 8-bit, %s)", video_frames, video_height,
                video_width, covered.c_str());
  stage_line(vae_what, vae_decode);
  if (!expert_swap_ms.empty()) {
    const auto moves = [&](const std::vector<double>& ms_per_move) {
      for (double ms : ms_per_move) {
        std::snprintf(line, sizeof line, " %.1f", ms);
        text += line;
      }
    };
    std::snprintf(line, sizeof line, "expert swap (Idle expert on the CPU: two DiTs trade places, %.2f GiB each way), "
                  "ms per move from pageable memory:", weights_gib);
    text += line;
    moves(expert_swap_pageable_ms);
    std::snprintf(line, sizeof line, expert_page_locked ? "; from page-locked memory (locked in %.1f ms):"
                                                         : "; after page-locking, which the system refused in part:",
                  expert_page_lock_ms);
    text += line;
    moves(expert_swap_ms);
    text += "\n";
  }
  std::snprintf(line, sizeof line, "%-7s %10s %10s %8s %9s %12s %9s %10s %10s\n", "mode", "ms/step", "cold step",
                "density", "speedup", "generation s", "total s", "rel L2", "peak GiB");
  text += line;
  const double first = rows.empty() ? 0.0 : rows.front().step_ms;
  for (const DitStepBenchRow& r : rows) {
    char density[16] = "-", peak[16] = "n/a";
    if (r.density) std::snprintf(density, sizeof density, "%.3f", *r.density);
    if (r.peak_memory_gib) std::snprintf(peak, sizeof peak, "%.2f", *r.peak_memory_gib);
    std::snprintf(line, sizeof line, "%-7s %10.2f %10.2f %8s %8.2fx %12.2f %9.2f %10.2e %10s\n",
                  attention_mode_name(r.mode), r.step_ms, r.cold_step_ms, density,
                  r.step_ms > 0.0 ? first / r.step_ms : 0.0, r.generation_s, r.total_s, r.relative_l2, peak);
    text += line;
  }
  return text;
}

}  // namespace svgear
