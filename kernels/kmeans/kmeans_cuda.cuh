#pragma once
// Raw-pointer launcher of the CUDA k-means (see kmeans.h for the op).

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/half_precision.h"

namespace svgear {

// Every pointer is device memory, row-major and contiguous. T = the element type.
struct KMeansCudaArgs {
  const void* x = nullptr;     // [BH, N, d] T
  float* centroids = nullptr;  // [BH, K, d] in: the initial centroids; out: the final ones
  int64_t* labels = nullptr;   // [BH, N] out: the last assignment
  int64_t* sizes = nullptr;    // [BH, K] out: its cluster sizes
  int64_t* order = nullptr;    // [BH, N] out: tokens stably sorted by label (ClusterLayout::order)
  int64_t* offsets = nullptr;  // [BH, K+1] out: each cluster's first position in `order`
  void* points = nullptr;      // [BH, N, d] T out, optional: x in `order`, written by the last update
  void* workspace = nullptr;   // kmeans_cuda_workspace_bytes()
  int64_t bh = 0, tokens = 0, head_dim = 0, clusters = 0;
  int iterations = 0;
  HalfPrecision element = HalfPrecision::BFloat16;
  bool allow_wgmma = true;  // false: the mma.sync assignment even where the wgmma one runs
};

// The shapes the kernels handle; kmeans falls back to its ATen reference for the rest.
bool kmeans_cuda_supports(int64_t bh, int64_t tokens, int64_t head_dim, int64_t clusters);
int64_t kmeans_cuda_workspace_bytes(int64_t bh, int64_t tokens, int64_t head_dim, int64_t clusters);
void launch_kmeans(const KMeansCudaArgs& args, cudaStream_t stream);

}  // namespace svgear
