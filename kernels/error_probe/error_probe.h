#pragma once
// error_probe: SVG-EAR's per-block estimate of the error that centroid compensation would cause
// (spec §3.3), and the fp32 centroid logits both routing rules start from (spec §2.4, P8).
//
// Shapes (BH = batch·heads, Qc/Kc = query/key clusters, N = tokens, d = head dim); every tensor on one
// device, CPU or CUDA:
//   q_centroids [BH, Qc, d] f32, k_centroids [BH, Kc, d] f32   k-means centroids q̄_i, k̄_j
//   kp          [BH, N, d]  any floating dtype                 keys permuted by key cluster
//   v           [BH, N, d]  kp's dtype                         values in token order (any head and row
//                                                              strides: the DiT's tokens-first V is read
//                                                              in place on CUDA)
//   k_layout    order [BH, N], offsets [BH, Kc+1] int64        the keys' cluster layout: cluster j owns
//                                                              permuted rows [offsets[j], offsets[j+1]);
//                                                              offsets[:, 0] = 0, offsets[:, Kc] = N
//                                                              (not checked: that would cost a host sync)
//   q_sizes     [BH, Qc]    int64                              m_i
// The op permutes V by the key layout and takes v̄_j = the mean of each cluster's values as it goes
// (gather_tokens_and_means, cluster_permutation.h), since the probe's value statistics come from
// the same read; the compensation downstream takes both from its result.
//
// Devices: CUDA kp / v of bf16 or fp16 (alike) with d 64 or 128, N < 2³⁰, BH ≤ 65535 and Qc ≤
// 65535·128 run error_probe_cuda.cu (tensor cores for the token logits with q̄ split into two
// 16-bit terms, fp32 online reductions, fast exp/log; the logits' error grows to ~1e-5 of their
// magnitude, so the bound below takes 2e-5 in place of 1e-6); everything else the ATen reference.
// Accuracy of the reference: fp32 throughout. log_error agrees with a float64 evaluation of log Σ_t ||a_t v_t − c v̄||²
// within 1e-4 + 1e-6·(1 + L)·κ, where L bounds the block's |logits| (their fp32 rounding) and
// κ = (S2 + 2c|S1| + c²n||v̄||²) / ε̂² measures the cancellation in the expanded formula; measured at
// ≤ 7% of that bound on CPU and CUDA. It stays finite for any finite logits (tested at logits ≈ 100).

#include <ATen/core/Tensor.h>

#include "kernels/cluster_permutation/cluster_permutation.h"

namespace svgear {

// ℓ_ij = scale · q̄_i · k̄_j in fp32 (the reference's bf16 matmul is spec pitfall P8).
// Returns [BH, Qc, Kc] f32.
at::Tensor centroid_logits(const at::Tensor& q_centroids, const at::Tensor& k_centroids, double scale);

struct ProbeResult {
  at::Tensor centroid_logits;  // [BH, Qc, Kc] f32: ℓ_ij
  // [BH, Qc, Kc] f32: log ε̂²_ij, ε̂²_ij = Σ_{t∈𝒦_j} ||e^{s·q̄_i·k_t} v_t − e^{ℓ_ij} v̄_j||², computed in the
  // log domain. Where the expanded sum cancels to below 1e-8·e^{2m} (m = the block's largest logit)
  // it is clamped there. −inf for empty key clusters: skipping them costs nothing.
  at::Tensor log_error;
  // [BH, Qc, Kc] f32: log_error − γ·log(max(m_i·n_j, 1e-8)), the error per unit area routing ranks by.
  at::Tensor score;
  at::Tensor vp;       // [BH, N, d] v permuted by the key layout, v's dtype (gather_tokens)
  at::Tensor v_means;  // [BH, Kc, d] f32 v̄_j, 0 for empty clusters, bit for bit gather_tokens_and_means's
};

ProbeResult error_probe(const at::Tensor& q_centroids, const at::Tensor& k_centroids, const at::Tensor& kp,
                        const at::Tensor& v, const ClusterLayout& k_layout, const at::Tensor& q_sizes, double scale,
                        double gamma);

// ATen reference for CPU and CUDA tensors alike, from V already permuted (vp) and its v̄_j; it leaves
// the result's vp and v_means undefined. Call the functions above, which validate.
at::Tensor centroid_logits_reference(const at::Tensor& q_centroids, const at::Tensor& k_centroids,
                                     double scale);
ProbeResult error_probe_reference(const at::Tensor& q_centroids, const at::Tensor& k_centroids,
                                  const at::Tensor& kp, const at::Tensor& vp, const at::Tensor& k_offsets,
                                  const at::Tensor& q_sizes, const at::Tensor& v_means, double scale,
                                  double gamma);

}  // namespace svgear
