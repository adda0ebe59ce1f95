#include "kernels/cluster_permutation/cluster_permutation_cuda.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace svgear {
namespace {

// Gathers move whole rows as 16-byte words, one word per thread: one index read per row instead of
// ATen's gather with an index per element (5× the bytes for bf16 rows).
// x's rows are x_head / x_row words apart (its strides), out is contiguous.
template <bool kScatter>
__global__ void move_rows_kernel(const uint4* __restrict__ x, const int64_t* __restrict__ order,
                                 uint4* __restrict__ out, int64_t rows, int64_t words_per_row, int64_t x_head,
                                 int64_t x_row, int64_t total) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= total) return;
  const int64_t word = i % words_per_row;
  const int64_t row = i / words_per_row;  // head · N + r
  const int64_t head = row / rows, r = row % rows, other = order[row];
  if (kScatter) {
    out[(head * rows + other) * words_per_row + word] = x[head * x_head + r * x_row + word];
  } else {
    out[row * words_per_row + word] = x[head * x_head + other * x_row + word];
  }
}

template <bool kScatter>
void move_rows(const void* x, const int64_t* order, void* out, int64_t bh, int64_t rows, int64_t row_bytes,
               int64_t x_head_bytes, int64_t x_row_bytes, cudaStream_t stream) {
  const int64_t words_per_row = row_bytes / 16;
  const int64_t total = bh * rows * words_per_row;
  if (total == 0) return;
  constexpr int kThreads = 256;
  move_rows_kernel<kScatter><<<unsigned((total + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
      static_cast<const uint4*>(x), order, static_cast<uint4*>(out), rows, words_per_row, x_head_bytes / 16,
      x_row_bytes / 16, total);
}

// One warp per cluster. A row is head_dim / 8 lanes × 16 bytes, so one load instruction reads
// 32 / (head_dim / 8) rows (2 at d = 128, 4 at d = 64) and kLoadsInFlight of them run ahead. The first version
// had each lane read one 2-byte element of a row, one row after the other: 0.125 ms for V at
// Wan-1.3B 480p, 4× the time its 100 MB take to read. With `order`, x is in token order and the
// cluster's rows are read through it, 32 indices per coalesced load, and written to `xp_out` in
// cluster order as they pass: the gather and the means in one read of x. The row groups' sums are
// added across lanes at the end in a fixed order: deterministic, and the same sums with or without
// `order`.
template <typename T>
__global__ void cluster_means_kernel(const T* __restrict__ x, const int64_t* __restrict__ order,
                                     const int64_t* __restrict__ offsets, T* __restrict__ xp_out,
                                     float* __restrict__ means, int64_t rows, int head_dim, int64_t x_head,
                                     int64_t x_row, int64_t clusters, int64_t count) {
  constexpr int kLoadsInFlight = 8;  // 16 rows per warp at d = 128: the loads, not the adds, set the pace
  const int lanes_per_row = head_dim / 8, row_groups = 32 / lanes_per_row;
  const int64_t g = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32;  // head · K + c
  const int lane = threadIdx.x % 32, group = lane / lanes_per_row, part = lane % lanes_per_row;
  if (g >= count) return;
  const int64_t head = g / clusters, c = g % clusters;
  const int64_t begin = offsets[head * (clusters + 1) + c], end = offsets[head * (clusters + 1) + c + 1];
  const T* base = x + head * x_head + part * 8;
  T* out = xp_out ? xp_out + head * rows * head_dim + part * 8 : nullptr;
  const int64_t* head_order = order ? order + head * rows : nullptr;
  float sum[8] = {};
  for (int64_t batch = begin; batch < end; batch += 32) {
    const int in_batch = end - batch < 32 ? int(end - batch) : 32;
    const int64_t my_row = lane < in_batch ? (head_order ? head_order[batch + lane] : batch + lane) : 0;
    for (int i = 0; i < in_batch; i += row_groups * kLoadsInFlight) {
      uint4 words[kLoadsInFlight];
#pragma unroll
      for (int l = 0; l < kLoadsInFlight; ++l) {
        const int r = i + l * row_groups + group;
        const int64_t source = __shfl_sync(0xffffffffu, my_row, r & 31);
        words[l] = r < in_batch ? *reinterpret_cast<const uint4*>(base + source * x_row) : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
      for (int l = 0; l < kLoadsInFlight; ++l) {
        const int r = i + l * row_groups + group;
        if (out && r < in_batch) *reinterpret_cast<uint4*>(out + (batch + r) * head_dim) = words[l];
        const T* e = reinterpret_cast<const T*>(&words[l]);  // a zero word is +0: the sum keeps its value
        for (int j = 0; j < 8; ++j) sum[j] += float(e[j]);
      }
    }
  }
  for (int delta = lanes_per_row; delta < 32; delta *= 2)
    for (int j = 0; j < 8; ++j) sum[j] += __shfl_xor_sync(0xffffffffu, sum[j], delta);
  if (group != 0) return;
  const float inverse = end > begin ? 1.0f / float(end - begin) : 0.0f;
  float4* mean = reinterpret_cast<float4*>(means + g * head_dim + part * 8);
  mean[0] = make_float4(sum[0] * inverse, sum[1] * inverse, sum[2] * inverse, sum[3] * inverse);
  mean[1] = make_float4(sum[4] * inverse, sum[5] * inverse, sum[6] * inverse, sum[7] * inverse);
}

}  // namespace

void launch_gather_rows(const void* x, const int64_t* order, void* out, int64_t bh, int64_t rows,
                        int64_t row_bytes, int64_t x_head_bytes, int64_t x_row_bytes, cudaStream_t stream) {
  move_rows<false>(x, order, out, bh, rows, row_bytes, x_head_bytes, x_row_bytes, stream);
}

void launch_scatter_rows(const void* x, const int64_t* order, void* out, int64_t bh, int64_t rows,
                         int64_t row_bytes, int64_t x_head_bytes, int64_t x_row_bytes, cudaStream_t stream) {
  move_rows<true>(x, order, out, bh, rows, row_bytes, x_head_bytes, x_row_bytes, stream);
}

void launch_cluster_means(const void* x, const int64_t* order, const int64_t* offsets, void* xp_out, float* means,
                          int64_t bh, int64_t rows, int64_t head_dim, int64_t x_head_stride, int64_t x_row_stride,
                          int64_t clusters, HalfPrecision element, cudaStream_t stream) {
  const int64_t count = bh * clusters;
  if (count == 0) return;
  constexpr int kThreads = 128;
  const unsigned blocks = unsigned((count + kThreads / 32 - 1) / (kThreads / 32));
  if (element == HalfPrecision::BFloat16) {
    cluster_means_kernel<__nv_bfloat16><<<blocks, kThreads, 0, stream>>>(
        static_cast<const __nv_bfloat16*>(x), order, offsets, static_cast<__nv_bfloat16*>(xp_out), means, rows,
        int(head_dim), x_head_stride, x_row_stride, clusters, count);
  } else {
    cluster_means_kernel<__half><<<blocks, kThreads, 0, stream>>>(
        static_cast<const __half*>(x), order, offsets, static_cast<__half*>(xp_out), means, rows, int(head_dim),
        x_head_stride, x_row_stride, clusters, count);
  }
}

}  // namespace svgear
