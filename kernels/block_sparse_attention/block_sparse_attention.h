#pragma once
// block_sparse_attention: attention over the routed (query cluster, key cluster) blocks of permuted
// tensors (SVG2, spec §2.6), optionally with SVG-EAR's centroid compensation of the skipped blocks
// (spec §3.2).
//
// Shapes (BH = batch·heads, Qc/Kc = query/key clusters, d = head dim); every tensor on one device,
// CPU or CUDA:
//   qp         [BH, Nq, d] any floating dtype, rows permuted by query cluster
//   kp, vp     [BH, Nk, d] floating, rows permuted by key cluster (v follows k's permutation)
//   q_offsets  [BH, Qc+1] int64, k_offsets [BH, Kc+1] int64: cluster c owns rows [off[c], off[c+1]);
//              off[:, 0] = 0, never decreasing, off[:, last] = the row count (checked for CPU
//              tensors; for CUDA ones it would cost a host sync, and bad offsets read out of bounds)
//   block_mask [BH, Qc, Kc] bool, true = computed exactly
//   out_order  undefined, or [BH, Nq] int64 = the query layout's order: output row out_order[r] then
//              receives permuted row r, i.e. the output comes back in the original token order
//              (scatter_tokens fused into the op); it must be a permutation of 0 … Nq−1, which
//              the GPU kernels do not check (a repeated row is written twice, a missing one not at all)
//   returns    [BH, Nq, d] in qp's dtype, in permuted query order (or the original order, above)
//
// For a query token q of cluster i the output is Σ w·v / Σ w over the keys of every routed key
// cluster (w = e^{s·q·k_t}) and, with compensation, one virtual key per skipped non-empty key cluster
// j: w = n_j·e^{s·q·k̄_j} with value v̄_j. A query with nothing to attend outputs zeros.
//
// Keys and values must be finite: a padding slot of a key tile reads the head's first key and value
// at weight 0 (and 0 · inf is not 0). Checked: scale (s) positive and finite, d >= 1, a query
// cluster wherever Nq > 0, and an output that shares no memory with qp, kp, vp, k̄ or v̄.
//
// Devices: CUDA tensors of bf16 or fp16 (q, k, v alike) with d = 64 or 128, Kc <= 8192, BH <= 65535
// and fewer than 2³¹ query rows and 2³⁰ key rows per head (the kernels count rows in int) run a
// fused kernel: wgmma on an sm_90 GPU (block_sparse_attention_sm90.cu), mma.sync on the others
// (block_sparse_attention_cuda.cu) where its cluster lists fit the device's shared memory; both
// bf16/fp16 products, fp32 accumulation, k̄ and v̄ rounded to the input dtype; ~3e-3 relative L2
// from the fp32 reference on the same inputs. CPU tensors run block_sparse_attention_cpu (fp32, the
// routed blocks' work only). Other CUDA cases run the ATen reference, which computes every logit
// and masks. Both fp32 paths agree with a float64 evaluation to ~1e-6 relative L2 for fp32 inputs.

#include <ATen/core/Tensor.h>

#include "kernels/common/kernel_path.h"

namespace svgear {

// Skipped blocks stand in as their key cluster: centroid key, mean value, weight n_j (spec §3.2).
struct CentroidCompensation {
  at::Tensor k_centroids;  // [BH, Kc, d] floating
  at::Tensor v_means;      // [BH, Kc, d] floating
  at::Tensor k_sizes;      // [BH, Kc] int64
};

// compensation = nullptr is SVG2: skipped blocks are dropped.
at::Tensor block_sparse_attention(const at::Tensor& qp, const at::Tensor& kp, const at::Tensor& vp,
                                  const at::Tensor& q_offsets, const at::Tensor& k_offsets,
                                  const at::Tensor& block_mask, double scale,
                                  const CentroidCompensation* compensation, const at::Tensor& out_order = {});

// The same into a preallocated `out` [BH, Nq, d] of qp's dtype and device (no allocation for the
// result; every element is written). Its rows must be contiguous, its head and row strides are
// free: a [H, N, d] view of tokens-first [N, H, d] storage receives the output in the layout a DiT
// merges its heads from, with no copy (the kernels write there directly).
void block_sparse_attention_out(at::Tensor& out, const at::Tensor& qp, const at::Tensor& kp,
                                const at::Tensor& vp, const at::Tensor& q_offsets, const at::Tensor& k_offsets,
                                const at::Tensor& block_mask, double scale,
                                const CentroidCompensation* compensation, const at::Tensor& out_order = {});

// Which of the two GPU kernels runs follows kernel_path() (kernels/common/kernel_path.h).
// What runs the op for tensors of `dtype` with `head_dim` and `k_clusters` key clusters on
// `device` (the current CUDA device for a CUDA one): "wgmma (sm_90a)", "mma.sync (sm_80)", "CPU
// gather" or "ATen reference".
const char* block_sparse_kernel_name(const at::Device& device, at::ScalarType dtype, int64_t head_dim,
                                     int64_t k_clusters);

// The CPU implementation (block_sparse_attention_cpu.cpp: per query cluster, the routed keys and
// the virtual keys gathered, one GEMM each way), in permuted order; call block_sparse_attention,
// which validates.
at::Tensor block_sparse_attention_cpu(const at::Tensor& qp, const at::Tensor& kp, const at::Tensor& vp,
                                      const at::Tensor& q_offsets, const at::Tensor& k_offsets,
                                      const at::Tensor& block_mask, double scale,
                                      const CentroidCompensation* compensation);

// ATen reference for CPU and CUDA tensors alike, in permuted order; call block_sparse_attention,
// which validates.
at::Tensor block_sparse_attention_reference(const at::Tensor& qp, const at::Tensor& kp, const at::Tensor& vp,
                                            const at::Tensor& q_offsets, const at::Tensor& k_offsets,
                                            const at::Tensor& block_mask, double scale,
                                            const CentroidCompensation* compensation);

}  // namespace svgear
