#pragma once
// Attention benchmark: one self-attention call of a named shape, run by each backend over a sweep
// of top-p budgets, timed (median of N runs after a warm-up) and compared with dense attention.
//
//   AttentionBenchOptions options;
//   options.shape = find_bench_shape("small");
//   options.modes = {AttentionMode::Dense, AttentionMode::SvgEar};
//   options.budgets = {0.5, 0.9};
//   AttentionBenchResult result = run_attention_bench(options);
//   std::fputs(result.table().c_str(), stdout);
//
// Inputs are synthetic unless a safetensors file of real activations is given: per head, Q and K
// are Gaussian mixtures of kSyntheticComponents components in d dimensions with their own centres,
// each token = (centre + kSyntheticNoise · N(0, I)) · gain, where the gain makes the logits between
// a query centre and a key centre ~ N(0, 3²): each query component attends a few key components
// strongly, not one alone. V follows the key components (centre + noise), as values of similar
// keys are similar in a DiT. Their densities and errors say how the backends behave, not what a
// video will look like.
//
// Timing: the first call of each backend clusters from scratch (k-means init + 50 iterations, the
// first sparse step of a generation); the timed calls then advance the step, so they warm-start
// from the centroid cache (2 iterations) as every later step of a generation does.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

#include "core/attention/attention_backend.h"
#include "core/attention/attention_config.h"
#include "kernels/block_sparse_attention/block_sparse_attention.h"

namespace svgear {

constexpr int kSyntheticComponents = 64;
constexpr double kSyntheticNoise = 0.3;

// One attention call's shape, with the cluster counts that suit it (spec §2.8 for the video
// models; about N/64 and N/16 for the small CPU shapes, where 1000 key clusters would be single
// tokens).
struct BenchShape {
  std::string name;
  int64_t batch = 1;
  int64_t heads = 0;
  int64_t tokens = 0;
  int64_t head_dim = 0;
  TokenGrid grid;  // frames × height × width = tokens
  int q_clusters = 0;
  int k_clusters = 0;
};

// wan1.3b-480p, wan14b-720p, hunyuan-720p, tiny, small.
const std::vector<BenchShape>& bench_shapes();
// Throws UserError listing the names for an unknown one.
BenchShape find_bench_shape(std::string_view name);

// The most timed calls per row: a typo's 2^31 would run for days before the table prints.
constexpr int kMaxBenchRepeat = 1000;

struct AttentionBenchOptions {
  BenchShape shape;
  std::vector<AttentionMode> modes;  // dense is always run too: it is the reference
  std::vector<double> budgets;       // top_p values for the sparse modes
  AttentionConfig base;              // cluster counts and the other knobs (mode, top_p are swept)
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;
  int repeat = 5;
  uint64_t seed = 0;
  // A .safetensors file with q, k, v of shape [B, H, N, d] (real activations); replaces the
  // synthetic inputs and the shape's sizes.
  std::optional<std::filesystem::path> inputs;
  // The kernels on a GPU: the device's best, or the sm_80 ones (block-sparse attention and the
  // k-means assignment) on any GPU for comparison. Process-wide while the bench runs.
  KernelPath kernel = KernelPath::Fastest;
  // Told before each row's calls ("svgear at top_p 0.9"): a large shape on a CPU takes minutes. It
  // may throw (Cancelled) to stop the bench there.
  std::function<void(const std::string&)> on_progress;
  // Polled within the calls (a CPU's attention row chunks, the k-means iterations): a call at the
  // Wan shapes on a CPU takes minutes. Throws Cancelled.
  const CancelToken* cancel = nullptr;
};

// Wall time per phase of one sparse call, from the backend's routing trace (a separate, traced
// call: tracing synchronises between phases, so it is not one of the timed calls).
struct AttentionBenchPhases {
  double kmeans_ms = 0.0;
  double permute_ms = 0.0;
  double probe_ms = 0.0;
  double routing_ms = 0.0;
  double attention_ms = 0.0;
};

struct AttentionBenchRow {
  AttentionMode mode = AttentionMode::Unset;
  double top_p = 1.0;                 // 1 for dense
  std::optional<double> density;      // computed share of the N² scores, mean over heads (traces)
  double relative_l2 = 0.0;           // ||o − o_dense|| / ||o_dense||, in float64
  double first_call_ms = 0.0;         // the warm-up call (sparse: includes the k-means init)
  double median_ms = 0.0;             // of the timed calls, warm centroid cache
  std::vector<double> call_ms;
  std::optional<AttentionBenchPhases> phases;  // sparse modes only
  // Useful attention arithmetic per second: 4·BH·N²·d·density flops (Q·Kᵀ and P·V of the computed
  // blocks) over the attention phase's time (sparse: the traced call's, so one call, not a median)
  // or the whole call (dense: the median).
  std::optional<double> tflops;
  // How many times faster the call is than the dense row of the same run (cuDNN first) and than
  // dense attention through FlashAttention-2 SDPA, where that ran.
  std::optional<double> speedup_vs_dense, speedup_vs_flash;
  // k-means + probe + routing over the traced call's phases (sparse modes; issue 4 wants ≤ 15%).
  // SVG-EAR's probe phase includes V's permutation, which it takes in the same read.
  std::optional<double> overhead_share;
  std::string unavailable;            // why the mode could not run (then nothing else is set)
};

struct AttentionBenchResult {
  std::string inputs;  // "synthetic: ..." or the file
  std::string device;  // in words
  std::string dtype;
  std::string sparse_attention_kernel;  // what ran the sparse modes' block-sparse attention (block_sparse_kernel_name)
  BenchShape shape;
  std::vector<AttentionBenchRow> rows;
  // Dense attention through ATen's FlashAttention-2 SDPA backend, median ms (CUDA half precision
  // only; the dense row above is cuDNN first). The ratio the kernels are measured against.
  std::optional<double> dense_flash_ms;

  nlohmann::json to_json() const;
  std::string table() const;
};

// Throws UserError for a malformed inputs file or an impossible device / dtype.
AttentionBenchResult run_attention_bench(const AttentionBenchOptions& options);

}  // namespace svgear
