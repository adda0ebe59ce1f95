#include "kernels/kmeans/kmeans_cuda.cuh"

#include <cub/device/device_radix_sort.cuh>
#include <math_constants.h>

#include "kernels/common/mma_sm80.cuh"
#include "kernels/common/workspace_carver.h"

namespace svgear {
namespace {

using namespace mma_sm80;

// One Lloyd iteration, all on the stream, no host sync:
//   1. prepare: centroids → the input dtype (the mma operand) and their squared norms (of the
//      rounded centroids, so ||x − c||² = ||x||² − 2x·c + ||c||² stays one consistent metric).
//   2. assign: label = argmin_c ||c||² − 2 x·c, a GEMM with an argmin epilogue on tensor cores:
//      a CTA holds kTileRows tokens as A fragments and streams the centroids in tiles of
//      kTileCentroids (cp.async, double-buffered); the N × K distances never reach global memory.
//      It also writes the sort key head·K + label and the token index for step 3.
//   3. a stable radix sort of (key, token) groups each head's clusters, tokens in original order.
//   4. offsets: cluster g's tokens are sorted[lower_bound(g) .. lower_bound(g + 1)).
//   5. update: one warp per cluster sums its tokens' rows in fp32 (segmented sums: no atomics,
//      deterministic) and writes the mean; an empty cluster keeps its centroid [spec §2.2].
constexpr int kTileRows = 64;
constexpr int kTileCentroids = 64;
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kRowPad = 8;  // 16 bytes per shared row: ldmatrix's 8 row addresses hit distinct banks

template <typename T>
__global__ void prepare_centroids_kernel(const float* __restrict__ centroids, T* __restrict__ rounded,
                                         float* __restrict__ norms, int64_t count, int head_dim) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (c >= count) return;
  float norm = 0.0f;
  for (int i = lane; i < head_dim; i += 32) {
    const T value = T(centroids[c * head_dim + i]);
    rounded[c * head_dim + i] = value;
    const float back = float(value);
    norm += back * back;
  }
  for (int delta = 16; delta > 0; delta /= 2) norm += __shfl_xor_sync(0xffffffffu, norm, delta);
  if (lane == 0) norms[c] = norm;
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) assign_kernel(const T* __restrict__ x, const T* __restrict__ centroids,
                                                          const float* __restrict__ norms, int32_t* __restrict__ labels,
                                                          int32_t* __restrict__ sort_keys,
                                                          int32_t* __restrict__ sort_tokens, int64_t tokens,
                                                          int64_t clusters) {
  constexpr int kStride = D + kRowPad;
  constexpr int kVectorsPerRow = D * int(sizeof(T)) / 16;
  constexpr int kKTiles = D / 16;
  constexpr int kCentroidTiles = kTileCentroids / 8;
  __shared__ __align__(16) T x_s[kTileRows * kStride];
  extern __shared__ __align__(16) unsigned char dynamic_smem[];
  T* c_s = reinterpret_cast<T*>(dynamic_smem);                                       // [2][kTileCentroids][kStride]
  float* norm_s = reinterpret_cast<float*>(c_s + 2 * kTileCentroids * kStride);      // [2][kTileCentroids]

  const int64_t head = blockIdx.y;
  const int64_t row0 = int64_t(blockIdx.x) * kTileRows;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const T* xh = x + head * tokens * D;
  const T* ch = centroids + head * clusters * D;
  const float* nh = norms + head * clusters;

  for (int i = tid; i < kTileRows * kVectorsPerRow; i += kThreads) {
    const int r = i / kVectorsPerRow, vec = i % kVectorsPerRow;
    const bool valid = row0 + r < tokens;
    copy16_async(x_s + r * kStride + vec * 8, xh + (valid ? row0 + r : 0) * D + vec * 8, valid ? 16 : 0);
  }
  commit_async();
  auto load_tile = [&](int tile, int buf) {
    for (int i = tid; i < kTileCentroids * kVectorsPerRow; i += kThreads) {
      const int r = i / kVectorsPerRow, vec = i % kVectorsPerRow;
      const int64_t c = int64_t(tile) * kTileCentroids + r;
      const bool valid = c < clusters;
      copy16_async(c_s + (buf * kTileCentroids + r) * kStride + vec * 8, ch + (valid ? c : 0) * D + vec * 8,
                   valid ? 16 : 0);
    }
    if (tid < kTileCentroids) {
      const int64_t c = int64_t(tile) * kTileCentroids + tid;
      norm_s[buf * kTileCentroids + tid] = c < clusters ? nh[c] : CUDART_INF_F;
    }
  };
  const int tiles = int((clusters + kTileCentroids - 1) / kTileCentroids);
  load_tile(0, 0);
  commit_async();
  wait_async<1>();
  __syncthreads();
  uint32_t x_frag[kKTiles][4];
  {
    const T* base = x_s + (warp * 16 + (lane % 16)) * kStride + (lane / 16) * 8;
    for (int kt = 0; kt < kKTiles; ++kt) ldmatrix_x4(x_frag[kt], base + kt * 16);
  }

  // Rows lane/4 and lane/4 + 8 of the warp; each thread sees its columns in increasing order, so a
  // strict < keeps the lowest index among equal distances.
  float best[2] = {CUDART_INF_F, CUDART_INF_F};
  int best_index[2] = {0, 0};
  for (int tile = 0; tile < tiles; ++tile) {
    const int buf = tile & 1;
    if (tile + 1 < tiles) load_tile(tile + 1, buf ^ 1);
    commit_async();
    wait_async<1>();
    __syncthreads();
    const T* cbuf = c_s + buf * kTileCentroids * kStride;
    float s[kCentroidTiles][4];
    for (int nt = 0; nt < kCentroidTiles; ++nt)
      for (int e = 0; e < 4; ++e) s[nt][e] = 0.0f;
    for (int kt = 0; kt < kKTiles; ++kt) {
      for (int nt2 = 0; nt2 < kCentroidTiles / 2; ++nt2) {
        uint32_t b[4];
        ldmatrix_x4(b, cbuf + (nt2 * 16 + (lane % 8) + (lane / 16) * 8) * kStride + kt * 16 + ((lane / 8) % 2) * 8);
        Element<T>::mma(s[2 * nt2], x_frag[kt], b[0], b[1]);
        Element<T>::mma(s[2 * nt2 + 1], x_frag[kt], b[2], b[3]);
      }
    }
    for (int nt = 0; nt < kCentroidTiles; ++nt) {
      for (int e = 0; e < 4; ++e) {
        const int col = nt * 8 + 2 * (lane % 4) + (e % 2);
        const float distance = norm_s[buf * kTileCentroids + col] - 2.0f * s[nt][e];
        if (distance < best[e / 2]) {
          best[e / 2] = distance;
          best_index[e / 2] = tile * kTileCentroids + col;
        }
      }
    }
    __syncthreads();
  }
  wait_async<0>();
  for (int h = 0; h < 2; ++h) {
    for (int delta = 1; delta < 4; delta *= 2) {
      const float other = __shfl_xor_sync(0xffffffffu, best[h], delta);
      const int other_index = __shfl_xor_sync(0xffffffffu, best_index[h], delta);
      if (other < best[h] || (other == best[h] && other_index < best_index[h])) {
        best[h] = other;
        best_index[h] = other_index;
      }
    }
    const int64_t row = row0 + warp * 16 + lane / 4 + 8 * h;
    if (lane % 4 == 0 && row < tokens) {
      const int64_t flat = head * tokens + row;
      labels[flat] = best_index[h];
      sort_keys[flat] = int32_t(head * clusters + best_index[h]);
      sort_tokens[flat] = int32_t(row);
    }
  }
}

// offsets[g] = first position of key g in the sorted keys (lower bound); offsets[count] = total.
__global__ void cluster_offsets_kernel(const int32_t* __restrict__ sorted_keys, int32_t* __restrict__ offsets,
                                       int64_t total, int64_t count) {
  const int64_t g = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (g > count) return;
  int64_t lo = 0, hi = total;
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (sorted_keys[mid] < g) lo = mid + 1; else hi = mid;
  }
  offsets[g] = int32_t(lo);
}

// D/32 consecutive elements per lane, loaded as one 4- or 8-byte word and widened to fp32.
template <typename T, int D>
struct LaneSlice {
  static constexpr int kDims = D / 32;
  float x[kDims];
  __device__ __forceinline__ void load(const T* row, int lane) {
    const T* p = row + lane * kDims;
    if constexpr (kDims == 4) {
      const uint2 word = *reinterpret_cast<const uint2*>(p);
      const T* e = reinterpret_cast<const T*>(&word);
      for (int j = 0; j < 4; ++j) x[j] = float(e[j]);
    } else {
      const uint32_t word = *reinterpret_cast<const uint32_t*>(p);
      const T* e = reinterpret_cast<const T*>(&word);
      for (int j = 0; j < 2; ++j) x[j] = float(e[j]);
    }
  }
};

// One warp per cluster, lanes split the dims. The cluster's token indices are fetched 32 at a time
// (one coalesced load) and its rows read kRowsInFlight at a time, so a large cluster is not a chain
// of dependent loads.
template <typename T, int D>
__global__ void update_centroids_kernel(const T* __restrict__ x, const int32_t* __restrict__ sorted_tokens,
                                        const int32_t* __restrict__ offsets, float* __restrict__ centroids,
                                        int32_t* __restrict__ sizes, int64_t tokens, int64_t clusters,
                                        int64_t count) {
  constexpr int kRowsInFlight = 4;
  using Slice = LaneSlice<T, D>;
  const int64_t g = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32;  // head · K + cluster
  const int lane = threadIdx.x % 32;
  if (g >= count) return;
  const int64_t head = g / clusters;
  const int begin = offsets[g], end = offsets[g + 1];
  if (lane == 0) sizes[g] = end - begin;
  if (end == begin) return;  // empty: keeps its centroid
  const T* xh = x + head * tokens * D;
  float sum[Slice::kDims] = {};
  for (int batch = begin; batch < end; batch += 32) {
    const int in_batch = end - batch < 32 ? end - batch : 32;
    const int my_token = lane < in_batch ? sorted_tokens[batch + lane] : 0;
    for (int i = 0; i < in_batch; i += kRowsInFlight) {
      Slice rows[kRowsInFlight];
#pragma unroll
      for (int r = 0; r < kRowsInFlight; ++r) {
        const int token = __shfl_sync(0xffffffffu, my_token, (i + r) & 31);
        if (i + r < in_batch) rows[r].load(xh + int64_t(token) * D, lane);
      }
#pragma unroll
      for (int r = 0; r < kRowsInFlight; ++r)
        if (i + r < in_batch)
          for (int j = 0; j < Slice::kDims; ++j) sum[j] += rows[r].x[j];
    }
  }
  const float inverse = 1.0f / float(end - begin);
  for (int j = 0; j < Slice::kDims; ++j) centroids[g * D + lane * Slice::kDims + j] = sum[j] * inverse;
}

// The workspace, carved in one order by both kmeans_cuda_workspace_bytes and launch_kmeans.
struct Workspace {
  void* rounded = nullptr;      // [BH, K, d] T
  float* norms = nullptr;       // [BH, K]
  int32_t* keys_in = nullptr;   // [BH·N] head·K + label
  int32_t* keys_out = nullptr;  // [BH·N] sorted
  int32_t* tokens_in = nullptr;   // [BH·N] token index within its head
  int32_t* tokens_out = nullptr;  // [BH·N] in sorted order
  int32_t* offsets = nullptr;     // [BH·K + 1]
  void* sort_temp = nullptr;
  size_t sort_temp_bytes = 0;
  int64_t total_bytes = 0;
};

int key_bits(int64_t count) {
  int bits = 1;
  while ((int64_t(1) << bits) < count) ++bits;
  return bits;
}

Workspace carve(void* base, int64_t bh, int64_t tokens, int64_t head_dim, int64_t clusters) {
  const int64_t total = bh * tokens, count = bh * clusters;
  Workspace w;
  cub::DeviceRadixSort::SortPairs(nullptr, w.sort_temp_bytes, static_cast<const int32_t*>(nullptr),
                                  static_cast<int32_t*>(nullptr), static_cast<const int32_t*>(nullptr),
                                  static_cast<int32_t*>(nullptr), int(total), 0, key_bits(count));
  WorkspaceCarver carver(base);
  w.rounded = carver.take<uint16_t>(count * head_dim);  // bf16 or fp16
  w.norms = carver.take<float>(count);
  w.keys_in = carver.take<int32_t>(total);
  w.keys_out = carver.take<int32_t>(total);
  w.tokens_in = carver.take<int32_t>(total);
  w.tokens_out = carver.take<int32_t>(total);
  w.offsets = carver.take<int32_t>(count + 1);
  w.sort_temp = carver.take<char>(int64_t(w.sort_temp_bytes));
  w.total_bytes = carver.bytes();
  return w;
}

template <typename T, int D>
void run_typed(const KMeansCudaArgs& a, cudaStream_t stream) {
  const int64_t total = a.bh * a.tokens, count = a.bh * a.clusters;
  Workspace w = carve(a.workspace, a.bh, a.tokens, a.head_dim, a.clusters);
  T* rounded = static_cast<T*>(w.rounded);
  const T* x = static_cast<const T*>(a.x);
  constexpr int kWarpsPerBlock = kThreads / 32;
  const unsigned cluster_blocks = unsigned((count + kWarpsPerBlock - 1) / kWarpsPerBlock);
  const int assign_smem = 2 * kTileCentroids * (D + kRowPad) * int(sizeof(T)) + 2 * kTileCentroids * int(sizeof(float));
  auto assign = assign_kernel<T, D>;
  cudaFuncSetAttribute(assign, cudaFuncAttributeMaxDynamicSharedMemorySize, assign_smem);
  const dim3 assign_grid(unsigned((a.tokens + kTileRows - 1) / kTileRows), unsigned(a.bh));
  for (int it = 0; it < a.iterations; ++it) {
    prepare_centroids_kernel<T><<<cluster_blocks, kThreads, 0, stream>>>(a.centroids, rounded, w.norms, count, D);
    assign<<<assign_grid, kThreads, assign_smem, stream>>>(x, rounded, w.norms, a.labels, w.keys_in, w.tokens_in,
                                                           a.tokens, a.clusters);
    size_t temp_bytes = w.sort_temp_bytes;
    cub::DeviceRadixSort::SortPairs(w.sort_temp, temp_bytes, w.keys_in, w.keys_out, w.tokens_in, w.tokens_out,
                                    int(total), 0, key_bits(count), stream);
    cluster_offsets_kernel<<<unsigned((count + 1 + 255) / 256), 256, 0, stream>>>(w.keys_out, w.offsets, total, count);
    update_centroids_kernel<T, D><<<cluster_blocks, kThreads, 0, stream>>>(x, w.tokens_out, w.offsets, a.centroids,
                                                                          a.sizes, a.tokens, a.clusters, count);
  }
}

}  // namespace

bool kmeans_cuda_supports(int64_t bh, int64_t tokens, int64_t head_dim, int64_t clusters) {
  constexpr int64_t kMaxFlat = int64_t(1) << 30;  // int32 sort keys and token indices
  return (head_dim == 64 || head_dim == 128) && bh >= 1 && bh <= 65535 && tokens >= 1 && clusters >= 1 &&
         bh * tokens < kMaxFlat && bh * clusters < kMaxFlat;
}

int64_t kmeans_cuda_workspace_bytes(int64_t bh, int64_t tokens, int64_t head_dim, int64_t clusters) {
  return carve(nullptr, bh, tokens, head_dim, clusters).total_bytes;
}

void launch_kmeans(const KMeansCudaArgs& a, cudaStream_t stream) {
  const bool bf16 = a.element == HalfPrecision::BFloat16;
  if (a.head_dim == 64) {
    bf16 ? run_typed<__nv_bfloat16, 64>(a, stream) : run_typed<__half, 64>(a, stream);
  } else {
    bf16 ? run_typed<__nv_bfloat16, 128>(a, stream) : run_typed<__half, 128>(a, stream);
  }
}

}  // namespace svgear
