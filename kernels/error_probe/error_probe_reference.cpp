#include <algorithm>
#include <limits>

#include <ATen/ATen.h>

#include "kernels/error_probe/error_probe.h"

namespace svgear {
namespace {

// Each [BH, chunk, N] temporary of the probe holds at most this many elements (256 MB in fp32), so
// Wan 14B at 720p (BH = 40, N = 75600, Qc = 300) runs in chunks of 22 query centroids.
constexpr int64_t kMaxChunkElements = int64_t{1} << 26;
// Spec §3.3 eps: the floor for cancelled errors and for the block area.
constexpr double kEps = 1e-8;

// The key cluster of every permuted row: the j with offsets[j] <= t < offsets[j+1]. Empty clusters
// (equal offsets) own no row.
at::Tensor row_clusters(const at::Tensor& offsets, int64_t rows) {
  at::Tensor ends = offsets.slice(1, 1).contiguous();  // [BH, K]
  at::Tensor positions = at::arange(rows, offsets.options()).expand({offsets.size(0), rows}).contiguous();  // [BH, N]
  return at::searchsorted(ends, positions, /*out_int32=*/false, /*right=*/true);  // [BH, N]
}

}  // namespace

at::Tensor centroid_logits_reference(const at::Tensor& q_centroids, const at::Tensor& k_centroids,
                                     double scale) {
  return at::bmm(q_centroids, k_centroids.transpose(1, 2)) * scale;  // [BH, Qc, Kc]
}

// The reference kernel streams each block's keys with a running max m (initialised to ℓ_ij) and two
// rescaled sums. Here the same quantities come from whole-row scatter reductions:
//   m_ij  = max(ℓ_ij, max_t z_t)                         z_t = s·q̄_i·k_t
//   S2_ij = Σ_t e^{2(z_t − m)} ||v_t||²,   S1_ij = Σ_t e^{z_t − m} ⟨v̄_j, v_t⟩,   c = e^{ℓ_ij − m} ≤ 1
//   log ε̂²_ij = log(max(S2 − 2c·S1 + c²·n_j·||v̄_j||², eps)) + 2m
// Every exponent is ≤ 0, so nothing overflows however large the logits (spec P8: the reference's
// err·e^{2m} overflows fp32 once logits pass ~44). Deviation: the reference clamps err·e^{2m} at
// 1e-8 absolutely; clamping the rescaled sum instead floors the error relative to the block's scale,
// so blocks with very negative logits keep their order instead of all tying at 1e-8.
ProbeResult error_probe_reference(const at::Tensor& q_centroids, const at::Tensor& k_centroids,
                                  const at::Tensor& kp, const at::Tensor& vp, const at::Tensor& k_offsets,
                                  const at::Tensor& q_sizes, const at::Tensor& v_means, double scale,
                                  double gamma) {
  const int64_t bh = kp.size(0);
  const int64_t tokens = kp.size(1);
  const int64_t head_dim = kp.size(2);
  const int64_t query_clusters = q_centroids.size(1);
  at::Tensor keys = kp.to(at::kFloat);    // [BH, N, d]
  at::Tensor values = vp.to(at::kFloat);  // [BH, N, d]
  at::Tensor logits = centroid_logits_reference(q_centroids, k_centroids, scale);  // [BH, Qc, Kc]
  at::Tensor k_sizes = (k_offsets.slice(1, 1) - k_offsets.slice(1, 0, -1)).to(at::kFloat);  // [BH, Kc]
  at::Tensor cluster = row_clusters(k_offsets, tokens);  // [BH, N]

  // Per-token value statistics (the reference's kernel 1): ||v_t||² and ⟨v̄_{j(t)}, v_t⟩.
  at::Tensor value_norms = values.square().sum(-1);  // [BH, N]
  at::Tensor token_means = v_means.gather(1, cluster.unsqueeze(-1).expand({bh, tokens, head_dim}));  // [BH, N, d]
  at::Tensor value_dots = (token_means * values).sum(-1);  // [BH, N]
  at::Tensor mean_terms = k_sizes * v_means.square().sum(-1);  // [BH, Kc] n_j·||v̄_j||²

  at::Tensor log_error = at::empty_like(logits);  // [BH, Qc, Kc]
  const int64_t chunk = std::max<int64_t>(1, kMaxChunkElements / std::max<int64_t>(1, bh * tokens));
  for (int64_t begin = 0; begin < query_clusters; begin += chunk) {
    const int64_t end = std::min(begin + chunk, query_clusters);
    at::Tensor block_logits = logits.slice(1, begin, end);  // [BH, R, Kc]
    at::Tensor token_logits = at::bmm(q_centroids.slice(1, begin, end), keys.transpose(1, 2)) * scale;  // [BH, R, N]
    at::Tensor index = cluster.unsqueeze(1).expand_as(token_logits);  // [BH, R, N]
    at::Tensor block_max = block_logits.clone().scatter_reduce_(2, index, token_logits, "amax");  // [BH, R, Kc]
    at::Tensor weights = (token_logits - block_max.gather(2, index)).exp();  // [BH, R, N] e^{z_t − m}
    at::Tensor s2 = at::zeros_like(block_logits).scatter_add_(2, index, weights.square() * value_norms.unsqueeze(1));
    at::Tensor s1 = at::zeros_like(block_logits).scatter_add_(2, index, weights * value_dots.unsqueeze(1));
    at::Tensor c = (block_logits - block_max).exp();  // [BH, R, Kc]
    at::Tensor rescaled = s2 - 2.0 * c * s1 + c.square() * mean_terms.unsqueeze(1);  // ε̂²·e^{−2m}
    // A cluster of one key: v̄ is that key's value, so ε̂² = (a − c)²·||v̄||² with a = e^{z−m} =
    // S1 / ||v̄||², taken as a difference. The expanded form cancels: exactly here, where its three
    // sums see identical numbers, but in the CUDA kernel, whose token logits and sums round
    // differently, to fp32 noise of ~1e-7·||v||², which ranked exactly compensated singletons (k̄ = k:
    // k-means leaves each centroid at its cluster's mean) above real errors. Both compute this form.
    at::Tensor singleton_weight = at::where((mean_terms > 0).unsqueeze(1), s1 / mean_terms.unsqueeze(1), c);  // [BH, R, Kc]
    rescaled = at::where((k_sizes == 1).unsqueeze(1), (singleton_weight - c).square() * mean_terms.unsqueeze(1), rescaled);
    log_error.slice(1, begin, end).copy_(rescaled.clamp_min(kEps).log() + 2.0 * block_max);
  }
  log_error.masked_fill_((k_sizes == 0).unsqueeze(1), -std::numeric_limits<float>::infinity());

  at::Tensor area = q_sizes.to(at::kFloat).unsqueeze(2) * k_sizes.unsqueeze(1);  // [BH, Qc, Kc] m_i·n_j
  at::Tensor score = log_error - gamma * area.clamp_min(kEps).log();
  return ProbeResult{logits, log_error, score, {}, {}};  // vp and v_means: the caller's
}

}  // namespace svgear
