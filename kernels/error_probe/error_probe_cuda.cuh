#pragma once
// Raw-pointer launcher of the CUDA error probe (see error_probe.h for the op).

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/half_precision.h"

namespace svgear {

// Every pointer is device memory, row-major and contiguous except v. T = the element type.
struct ErrorProbeCudaArgs {
  const void* q_hi = nullptr;           // [BH, Qc, d] T: q̄ rounded to T
  const void* q_lo = nullptr;           // [BH, Qc, d] T: q̄ − q_hi rounded to T (q̄·k to ~16 bits)
  const void* kp = nullptr;             // [BH, N, d] T, permuted by key cluster
  const void* v = nullptr;              // [BH, N, d] T in token order, rows v_head / v_row elements apart
  const int64_t* k_order = nullptr;     // [BH, N] the key layout's order (cluster-order row → token)
  void* vp = nullptr;                   // [BH, N, d] T out: v permuted by key cluster
  float* v_means = nullptr;             // [BH, Kc, d] out: v̄_j, 0 for empty clusters
  const float* logits = nullptr;        // [BH, Qc, Kc] ℓ_ij
  const int64_t* k_offsets = nullptr;   // [BH, Kc+1]
  const int64_t* q_sizes = nullptr;     // [BH, Qc]
  float* log_error = nullptr;           // [BH, Qc, Kc] out
  float* score = nullptr;               // [BH, Qc, Kc] out
  void* workspace = nullptr;            // error_probe_cuda_workspace_bytes()
  int64_t bh = 0, tokens = 0, head_dim = 0, q_clusters = 0, k_clusters = 0;
  int64_t v_head = 0, v_row = 0;  // v's strides in elements; rows start on 16-byte boundaries
  float scale = 0.0f, gamma = 0.0f;
  HalfPrecision element = HalfPrecision::BFloat16;
};

bool error_probe_cuda_supports(int64_t head_dim, int64_t tokens, int64_t q_clusters);
int64_t error_probe_cuda_workspace_bytes(int64_t bh, int64_t tokens, int64_t k_clusters);
// The probe in two launches on one stream, V's gather with its statistics first: it reads only v,
// k_order and k_offsets, so the op computes logits, q_hi and q_lo beside it on a side stream.
void launch_value_gather(const ErrorProbeCudaArgs& args, cudaStream_t stream);
void launch_error_probe(const ErrorProbeCudaArgs& args, cudaStream_t stream);  // after launch_value_gather

}  // namespace svgear
