#pragma once
// DiT step benchmark: whole denoising steps of a Wan-shaped model with random weights, per attention
// backend: the end-to-end figure the attention kernels are for (issue 4), and the speed and memory
// of a Wan-1.3B-sized step without downloading weights (issue 7).
//
//   DitStepBenchOptions options;
//   options.shape = "wan1.3b-480p";
//   options.modes = {AttentionMode::Dense, AttentionMode::SvgEar};
//   options.device = c10::Device(c10::kCUDA, 0);
//   DitStepBenchResult result = run_dit_step_bench(options);
//   std::fputs(result.table().c_str(), stdout);
//
// A step is one conditional and one unconditional forward (classifier-free guidance), as in a
// generation. Sparse steps are timed past the dense warm-up of a `num_steps` schedule, after one
// untimed step that pays the cold k-means of every layer; the dense layers of the schedule stay
// dense. The estimate of a whole generation is warm-up steps × the dense step + the cold sparse
// step + the other sparse steps × the warm sparse step. The rest of a generation is timed once, with
// random weights of the real sizes: the text encoder (umT5 on the prompt and the negative prompt,
// padded to the context length) and the VAE decode of the whole latent to 8-bit video; a mode's
// total is text encoder + its generation estimate + VAE. With `profiled_step`, one untimed step of
// the last mode runs inside the profiler's capture range (cuda_profiler):
// `packaging/gpu/profile-kernels.sh` with BENCH=step says where a step's time goes.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

#include "core/attention/attention_config.h"
#include "core/cancel_token.h"

namespace svgear {

struct DitStepBenchOptions {
  std::string shape = "tiny";          // wan1.3b-480p | wan14b-720p | tiny (dit_step_bench_shapes())
  std::vector<AttentionMode> modes;    // each timed once; dense always runs first, as the reference
  AttentionConfig base;                // sparse knobs (mode is set per row); 0 clusters: the shape's
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;
  int timed_steps = 3;                 // warm steps timed per mode (the median is reported)
  // The schedule the steps sit in (warm-up, step indices): its dense warm-up, the cold step, the
  // timed steps and one untimed step must fit in it. Each count is 1 to kMaxSteps.
  int num_steps = 50;
  uint64_t seed = 0;
  // One more warm step of the last mode after its timed ones, untimed, between cudaProfilerStart and
  // Stop on a GPU: what `ncu --profile-from-start off` profiles (packaging/gpu/profile-kernels.sh),
  // so the profiler's replays never land in a timed step.
  bool profiled_step = false;
  // After the modes, Wan2.2-A14B's Idle expert on the CPU (a GPU only): a second DiT of the shape
  // in host memory (a copy of the first) trades places with the first (WanDiT::swap_places), as at
  // the boundary step and back at the next generation's first; each move timed, two from pageable
  // memory, then three from page-locked memory (WanWeights::page_lock, as a load holds the expert).
  bool expert_swap = false;
  // The blocks' linear weights kept in e4m3 as a scaled fp8 checkpoint's are
  // (WanWeights::keep_block_linears_in_fp8), so the steps pay each matmul's dequantisation.
  bool fp8 = false;
  // Told what starts next ("text encoder: …", "dense: step 2 of 4", …): at wan1.3b-480p on a CPU
  // a stage takes minutes, and a bench that prints nothing until its table looks hung.
  std::function<void(const std::string&)> on_progress;
  // Polled within the stages (each DiT block, each attention row chunk on a CPU, the VAE's frames)
  // and between their calls: a stage at wan1.3b-480p on a CPU takes minutes. Throws Cancelled.
  const CancelToken* cancel = nullptr;
};

struct DitStepBenchRow {
  AttentionMode mode = AttentionMode::Unset;
  double cold_step_ms = 0.0;             // the first step (sparse: every layer's k-means init)
  double step_ms = 0.0;                  // median of the timed steps
  std::vector<double> step_ms_all;
  double generation_s = 0.0;             // estimate for num_steps steps (header comment)
  std::optional<double> density;         // mean over sparse layers and heads of one traced step
  std::optional<double> peak_memory_gib;  // CUDA: peak allocated during this mode's steps
  double relative_l2 = 0.0;               // of the last timed step's guided velocity against dense
  double total_s = 0.0;                   // text encoder + generation_s + VAE decode
};

// The stages around the denoising loop, each timed warm (after one untimed call), its weights
// freed before the next stage.
struct PipelineStageTiming {
  double ms = 0.0;
  double weights_gib = 0.0;
  std::optional<double> peak_memory_gib;  // CUDA: peak allocated during the stage
};

struct DitStepBenchResult {
  std::string shape, device, dtype;
  int layers = 0, heads = 0, tokens = 0, head_dim = 0;
  double weights_gib = 0.0;  // the DiT's weights in the bench dtype (with fp8, the blocks' linears in e4m3)
  bool fp8 = false;
  int num_steps = 0, dense_warmup_steps = 0;
  uint64_t seed = 0;   // of the random weights and inputs: with --seed random, the only place that names it
  double top_p = 0.0;  // the sparse modes' budget
  PipelineStageTiming text_encoder;  // umT5 on 2 prompts × text tokens
  PipelineStageTiming vae_decode;    // the latent to an 8-bit video of video_frames × height × width
  int video_frames = 0, video_height = 0, video_width = 0;
  // How the VAE covered the frames: "whole" (a GPU), "tiles" (the CPU), or "tiles after running out
  // of memory" (a GPU where whole frames did not fit; a run record keeps that apart, as
  // device.vae_tiles_after_out_of_memory beside vae_frames "whole").
  std::string vae_frames;
  std::vector<DitStepBenchRow> rows;
  // With expert_swap: in, back, in from page-locked host memory (before the forty-fourth session,
  // from pageable memory: docs/benchmarks.md's older figures).
  std::vector<double> expert_swap_ms;
  std::vector<double> expert_swap_pageable_ms;  // before those: in and back through pageable memory
  double expert_page_lock_ms = 0.0;    // with expert_swap: the idle copy into page-locked memory (a load's share)
  bool expert_page_locked = false;     // whether every tensor was page-locked (else some moved from pageable memory)

  nlohmann::json to_json() const;
  std::string table() const;
};

std::vector<std::string> dit_step_bench_shapes();
// Throws UserError for an unknown shape, a count out of range or steps that do not fit in the
// schedule (naming the schedule that holds them), a mode named twice, bad sparse knobs, a mode that
// cannot run on the device, or a shape whose largest stage's weights exceed the device's free
// memory (the host's available memory on the CPU).
DitStepBenchResult run_dit_step_bench(const DitStepBenchOptions& options);

}  // namespace svgear
