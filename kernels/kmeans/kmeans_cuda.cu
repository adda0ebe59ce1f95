#include "kernels/kmeans/kmeans_cuda.cuh"

#include <math_constants.h>

#include "kernels/common/half_precision_dispatch.cuh"
#include "kernels/common/mma_sm80.cuh"
#include "kernels/common/sm90a_code.cuh"
#include "kernels/common/wgmma_sm90.cuh"
#include "kernels/common/workspace_carver.h"

namespace svgear {
namespace {

using namespace mma_sm80;
namespace wg = wgmma_sm90;

// One Lloyd iteration, all on the stream, no host sync:
//   1. prepare: centroids → the input dtype (the mma operand) and their squared norms (of the
//      rounded centroids, so ||x − c||² = ||x||² − 2x·c + ||c||² stays one consistent metric).
//   2. assign: label = argmin_c ||x − c||², a GEMM with an argmin epilogue on tensor cores:
//      a CTA holds kTileRows tokens as A fragments and streams the centroids in tiles of
//      kTileCentroids (cp.async, double-buffered); the N × K distances never reach global memory.
//      It also writes the sort key head·K + label and the token index for step 3. On Hopper the
//      same with wgmma (assign_sm90_kernel, below the mma.sync one), and for K ≤ 256 with the
//      centroids resident and several row tiles per CTA.
//   3. a stable counting sort of (key, token) groups each head's clusters, tokens in original order,
//      and gives each cluster's offset in the sorted order (below, before the update).
//   4. update: 1 to 8 warps per cluster sum its tokens' rows in fp32 (segmented sums: no atomics,
//      deterministic) and write the mean; an empty cluster keeps its centroid [spec §2.2]. The last
//      update can also write the rows it reads in cluster order (the caller's permuted copy of x,
//      without a second read of x).
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

// The ||x||² of the two rows this thread keeps in RowArgmin, from their A fragments (registers 0
// and 2 hold row lane/4, 1 and 3 row lane/4 + 8), summed over the 4 lanes of each row.
template <typename T, int KSteps>
__device__ __forceinline__ float2 row_norms(const uint32_t (&x)[KSteps][4]) {
  float norm[2] = {0.0f, 0.0f};
  for (int kt = 0; kt < KSteps; ++kt) {
    for (int r = 0; r < 4; ++r) {
      const float2 pair = Element<T>::unpack(x[kt][r]);
      norm[r % 2] = fmaf(pair.x, pair.x, fmaf(pair.y, pair.y, norm[r % 2]));
    }
  }
  for (int h = 0; h < 2; ++h)
    for (int delta = 1; delta < 4; delta *= 2) norm[h] += __shfl_xor_sync(0xffffffffu, norm[h], delta);
  return make_float2(norm[0], norm[1]);
}

// The running argmin of a warp's 16 token rows in the m16n8 C layout (mma_sm80.cuh): this thread
// keeps rows lane/4 and lane/4 + 8 over the columns it holds. Shared by both assignment kernels.
//
// Distances are compared as 32-bit keys, two integer instructions each (a LOP3 and an unsigned
// min): with a compare and two selects per distance the argmin kept the integer pipe, which runs
// at half rate, about as busy as the tensor pipe (docs/kernel-notes.md). A key is the float bits
// of d + ||x||² = ||x − c||² ≥ 0, whose bits order like its value (a rounding just below zero
// loses its sign bit: a tiny distance stays tiny), with the low 7 mantissa bits replaced by the
// column's place among this thread's columns. So distances within 2⁻¹⁷ to 2⁻¹⁶ of each other,
// relative to the distance itself, may compare equal, and equal ones go to the lowest index: within
// a tile by the place, across tiles by a strict compare of the value bits. (The warp's largest
// ||x||² as one offset for all 16 rows made that step relative to the largest norm, so a row beside
// an outlier lost resolution, and an infinite row took its 15 neighbours with it.)
// A padded centroid has norm NaN: its key is above every number's, and beside a token whose
// distances are all NaN it loses to the real centroids before it.
struct RowArgmin {
  static constexpr uint32_t kPlaceBits = 0x7Fu;
  uint32_t best[2];      // rows lane/4 and lane/4 + 8: the best key so far
  int best_first[2];     // the first centroid of its tile
  float offset[2];       // the rows' ||x||²

  __device__ __forceinline__ explicit RowArgmin(float2 norms) : offset{norms.x, norms.y} {
    for (int h = 0; h < 2; ++h) {
      best[h] = 0xFFFFFFFFu;
      best_first[h] = 0;
    }
  }

  // (bits | 0x7F) & (0x7FFFFF80 | place) as one LOP3 with the place as its immediate: given both
  // masks as constants nvcc emits an AND and an OR, so 0x7F comes from a register it cannot fold.
  static __device__ __forceinline__ uint32_t key(float distance, uint32_t place, uint32_t place_bits) {
    uint32_t k;
    asm("lop3.b32 %0, %1, %2, %3, 0xC8;" : "=r"(k) : "r"(__float_as_uint(distance)), "r"(0x7FFFFF80u | place), "r"(place_bits));
    return k;
  }

  // Folds in the dot products s of the centroids first .. first + 8·Tiles − 1 (norms: theirs). The
  // place of column nt·8 + 2·(lane % 4) + c is nt·8 + c: the lane's part is the same for all of
  // them and goes back into the index in write.
  template <int Tiles>
  __device__ __forceinline__ void update(const float (&s)[Tiles][4], const float* norms, int first, int lane) {
    static_assert(Tiles * 8 <= int(kPlaceBits) + 1, "a place fits the key's low bits");
    static_assert((Tiles & (Tiles - 1)) == 0, "the min tree halves the keys");
    uint32_t place_bits;
    asm volatile("mov.b32 %0, %1;" : "=r"(place_bits) : "n"(kPlaceBits));
    uint32_t keys[2][2 * Tiles];
    for (int nt = 0; nt < Tiles; ++nt) {
      for (int c = 0; c < 2; ++c) {
        const float norm = norms[nt * 8 + 2 * (lane % 4) + c];
        // One FFMA: written as n − 2.0f·s nvcc emits s + s and a subtraction (the same value).
        for (int h = 0; h < 2; ++h)
          keys[h][2 * nt + c] = key(fmaf(-2.0f, s[nt][2 * h + c], norm + offset[h]), uint32_t(nt * 8 + c), place_bits);
      }
    }
    for (int h = 0; h < 2; ++h) {
      for (int width = Tiles; width > 0; width /= 2)  // a tree: log2(2·Tiles) dependent steps, not a chain
        for (int i = 0; i < width; ++i) keys[h][i] = min(keys[h][i], keys[h][i + width]);
      if ((keys[h][0] >> 7) < (best[h] >> 7)) {
        best[h] = keys[h][0];
        best_first[h] = first;
      }
    }
  }

  // Combines the 4 lanes of each row (lowest index among equal distances) and writes the rows of
  // warp_row0 + 0..15 that are tokens.
  __device__ __forceinline__ void write(int32_t* sort_keys, int32_t* sort_tokens, int64_t head,
                                        int64_t warp_row0, int64_t tokens, int64_t clusters, int lane) {
    for (int h = 0; h < 2; ++h) {
      uint32_t value = best[h] >> 7;
      int index = best_first[h] + int(best[h] & kPlaceBits) + 2 * (lane % 4);
      for (int delta = 1; delta < 4; delta *= 2) {
        const uint32_t other = __shfl_xor_sync(0xffffffffu, value, delta);
        const int other_index = __shfl_xor_sync(0xffffffffu, index, delta);
        if (other < value || (other == value && other_index < index)) {
          value = other;
          index = other_index;
        }
      }
      const int64_t row = warp_row0 + lane / 4 + 8 * h;
      if (lane % 4 == 0 && row < tokens) {
        const int64_t flat = head * tokens + row;
        sort_keys[flat] = int32_t(head * clusters + index);
        sort_tokens[flat] = int32_t(row);
      }
    }
  }
};

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) assign_kernel(const T* __restrict__ x, const T* __restrict__ centroids,
                                                          const float* __restrict__ norms,
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
      norm_s[buf * kTileCentroids + tid] = c < clusters ? nh[c] : CUDART_NAN_F;
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

  RowArgmin argmin(row_norms<T>(x_frag));
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
    argmin.update(s, norm_s + buf * kTileCentroids, tile * kTileCentroids, lane);
    __syncthreads();
  }
  wait_async<0>();
  argmin.write(sort_keys, sort_tokens, head, row0 + warp * 16, tokens, clusters, lane);
}

// The assignment on Hopper tensor cores (wgmma, sm_90a); the result is assign_kernel's. That kernel's
// 4 warps each read the whole centroid tile (ldmatrix) for their 16 rows; here the tensor core reads
// a centroid tile from shared memory once per warpgroup (64 rows), and x stays in registers as the
// A operand, as there.
//   * A row tile = kHopperWarpgroups × 64 rows (wgmma's m64) = 128 tokens, one per CTA where the
//     centroids stream (kResidentRowTiles where they stay resident, below). At 256 threads and ≤ 128
//     registers 2 CTAs share an SM, so one CTA's argmin epilogue runs while the other's products do
//     (a CTA's warpgroups move in step between barriers). 4 warpgroups (256 rows, one CTA per SM,
//     half the L2 reads) were 7% slower.
//   * Centroid tiles of kHopperTileCentroids = 128 (wgmma's N: m64n128k16, 64 fp32 accumulators per
//     thread), kHopperStages stages in the 128-byte swizzle (wgmma_sm90.cuh) filled by cp.async,
//     one barrier per tile where they stream. x is staged in the last stage and read into
//     registers before that stage is first filled (or, resident, refilled with the next row
//     tile's x). At d = 128: 96 KB of stages + 1.5 KB of norms per CTA, so two CTAs fit in the SM's
//     228 KB.
// H200, BH = 12, N = 32760, d = 128, bf16, with two stages filled one tile ahead (ca6e4c1, one row
// tile per CTA): 0.218 ms per K = 1000 pass (assign_kernel 0.453 ms), 0.075 ms at K = 200 (0.135);
// with three stages (b6f4c67) 0.225 and 0.070 ms; with the argmin on packed keys (d89c69e) 0.211 ms
// for K = 1000. ncu: tensor pipe ~50% busy, the largest stall each warpgroup waiting for its own
// product. No gain from: each tile as two m64n64 halves, the second's product under the first's
// epilogue; each CTA starting at a different centroid tile (L2 is 28% busy); two accumulators per
// warpgroup, tile t + 1's product issued before tile t's argmin, at one CTA per SM (16% slower).
constexpr int kHopperWarpgroups = 2;
constexpr int kHopperThreads = kHopperWarpgroups * 128;
constexpr int kHopperTileRows = kHopperWarpgroups * 64;
constexpr int kHopperTileCentroids = 128;
constexpr int kHopperCtasPerSm = 2;
// Centroid stages, filled kHopperStages − 1 tiles ahead: the barrier that ends tile t waits for tile
// t + 1, whose copy was issued before tile t − 1's product, so it has two tiles' compute to land
// (with two stages it had one, and that wait was the largest stall). Four stages would leave one
// CTA per SM at d = 128.
constexpr int kHopperStages = 3;
// Row tiles per CTA when every centroid tile fits in the stages before the x stage (K ≤ 256, the
// queries' Qc = 200): the centroids are loaded once and stay, the CTA takes kResidentRowTiles row
// tiles in turn with the next one's x prefetched into its stage, and no centroid tile needs a
// barrier. One row tile per CTA spent most of its life in its prologue's loads: 70 µs per query
// assignment at Wan-1.3B 480p for 20 GFLOP, two CTA lifetimes of mostly waiting per SM at a time.
// Four keep ~3 waves of CTAs at BH = 12 and N = 32760 on 132 SMs.
constexpr int kResidentRowTiles = 4;

// Whether assign_sm90_kernel keeps these centroids resident: the kernel's path and the host's
// row tiles per CTA both follow it.
__host__ __device__ constexpr bool centroids_stay_resident(int64_t clusters) {
  return clusters <= int64_t(kHopperStages - 1) * kHopperTileCentroids;
}

// Dynamic shared memory from a 1024-byte-aligned base: the centroid stages (D/64 swizzled column
// blocks of kHopperTileCentroids × 128 bytes each), then the stages' norms. The x tile is staged in
// the last stage, in the same layout (ldmatrix's 8 rows hit distinct banks through the swizzle).
template <typename T, int D>
struct HopperAssignLayout {
  static constexpr int kStageBytes = kHopperTileCentroids * D * int(sizeof(T));
  static_assert(kStageBytes % wg::kSwizzleGroupBytes == 0, "swizzled tiles start on the swizzle period");
  static_assert(kHopperTileRows == kHopperTileCentroids, "the x tile fills a stage");
  static constexpr int kX = (kHopperStages - 1) * kStageBytes;  // the last stage
  static constexpr int kNorms = kX + kStageBytes;
  static constexpr int kBytes = kNorms + kHopperStages * kHopperTileCentroids * int(sizeof(float)) +
                                wg::kSwizzleGroupBytes;
};

// A CTA takes row tiles blockIdx.x · row_tiles .. + row_tiles − 1: kResidentRowTiles where the
// centroids stay resident, else 1 (hopper_row_tiles_per_cta).
template <typename T, int D>
__global__ void __launch_bounds__(kHopperThreads, kHopperCtasPerSm)
    assign_sm90_kernel(const T* __restrict__ x, const T* __restrict__ centroids, const float* __restrict__ norms,
                       int32_t* __restrict__ sort_keys,
                       int32_t* __restrict__ sort_tokens, int64_t tokens, int64_t clusters, int row_tiles) {
#if SVGEAR_WGMMA_AVAILABLE
  using L = HopperAssignLayout<T, D>;
  constexpr int kChunksPerRow = D / 8;  // 16-byte chunks
  constexpr int kKSteps = D / 16;
  constexpr int kCentroidTiles = kHopperTileCentroids / 8;  // 8-column tiles of the accumulator
  // A thread copies one chunk column of a 128-row tile, kRowsPerPass rows apart: its swizzled
  // destinations differ by whole 8-row groups (one offset plus a multiple of 1024).
  constexpr int kRowsPerPass = kHopperThreads / kChunksPerRow;
  static_assert(kRowsPerPass % 8 == 0 && kHopperTileCentroids % kRowsPerPass == 0, "whole swizzle periods per pass");
  extern __shared__ unsigned char smem_raw[];
  const uint32_t raw_address = shared_address(smem_raw);
  unsigned char* smem = smem_raw + (wg::kSwizzleGroupBytes - raw_address % wg::kSwizzleGroupBytes) % wg::kSwizzleGroupBytes;
  float* norm_s = reinterpret_cast<float*>(smem + L::kNorms);  // [kHopperStages][kHopperTileCentroids]

  const int64_t head = blockIdx.y;
  const int64_t first_row = int64_t(blockIdx.x) * row_tiles * kHopperTileRows;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const T* xh = x + head * tokens * D;
  const T* ch = centroids + head * clusters * D;
  const float* nh = norms + head * clusters;

  const int load_row = tid / kChunksPerRow, load_chunk = tid % kChunksPerRow;
  const int load_offset = wg::swizzled_offset(load_row, load_chunk, kHopperTileCentroids);
  // Rows first .. first + 127 of a [count][D] matrix into the stage at `offset`; rows past count
  // are zeros. Centroids past K get norm NaN besides: never taken (RowArgmin).
  auto load_rows = [&](int offset, const T* src, int64_t first, int64_t count) {
    unsigned char* dst = smem + offset + load_offset;
    for (int pass = 0; pass < kHopperTileCentroids / kRowsPerPass; ++pass) {
      const int64_t r = first + load_row + pass * kRowsPerPass;
      const bool valid = r < count;
      copy16_async(dst + pass * kRowsPerPass * wg::kSwizzleBytes, src + (valid ? r : 0) * D + load_chunk * 8,
                   valid ? 16 : 0);
    }
  };
  auto load_tile = [&](int tile, int stage) {
    load_rows(stage * L::kStageBytes, ch, int64_t(tile) * kHopperTileCentroids, clusters);
  };
  auto tile_norm = [&](int tile) {  // thread tid < kHopperTileCentroids: its centroid's norm
    const int64_t c = int64_t(tile) * kHopperTileCentroids + tid;
    return c < clusters ? nh[c] : CUDART_NAN_F;
  };
  const int tiles = int((clusters + kHopperTileCentroids - 1) / kHopperTileCentroids);
  // This warp's 16 rows of the x stage as A fragments (warp w of warpgroup g: rows 64g + 16w..,
  // wgmma's layout).
  auto load_x_fragments = [&](uint32_t (&x_frag)[kKSteps][4]) {
    for (int kt = 0; kt < kKSteps; ++kt) {
      const int offset = wg::swizzled_offset(warp * 16 + lane % 16, 2 * kt + lane / 16, kHopperTileRows);
      ldmatrix_x4(x_frag[kt], smem + L::kX + offset);
    }
  };
  // K-major B (the centroid tile as Cᵀ) at k-step kt: kt·32 bytes into its 64-wide column block
  // (wgmma_sm90.cuh). The start address is the low field, so an offset adds offset / 16.
  const uint64_t stages_descriptor = wg::descriptor(smem, 16, wg::kSwizzleGroupBytes);
  auto centroids_descriptor = [&](int stage, int kt) {
    return stages_descriptor +
           uint64_t((stage * L::kStageBytes + (kt / 4) * kHopperTileCentroids * wg::kSwizzleBytes + (kt % 4) * 32) >> 4);
  };
  // x·c for the centroid tile in `stage`, folded into the running argmin.
  auto multiply = [&](const uint32_t (&x_frag)[kKSteps][4], int stage, int tile, RowArgmin& argmin) {
    float s[kCentroidTiles][4];  // x·c, rows of this warp × the tile's centroids
    wg::fence();
    for (int kt = 0; kt < kKSteps; ++kt)
      wg::Mma<T, kHopperTileCentroids, false>::run(s, x_frag[kt], centroids_descriptor(stage, kt), kt > 0);
    wg::commit();
    wg::wait<0>();
    wg::fence_operand(s);
    argmin.update(s, norm_s + stage * kHopperTileCentroids, tile * kHopperTileCentroids, lane);
  };

  if (centroids_stay_resident(clusters)) {  // every tile in the stages before the x stage
    load_rows(L::kX, xh, first_row, tokens);
    for (int tile = 0; tile < tiles; ++tile) {
      load_tile(tile, tile);
      if (tid < kHopperTileCentroids) norm_s[tile * kHopperTileCentroids + tid] = tile_norm(tile);
    }
    commit_async();
    wait_async<0>();
    wg::fence_proxy_async();  // cp.async writes, read next by the tensor core
    __syncthreads();
    for (int r = 0; r < row_tiles; ++r) {
      const int64_t row0 = first_row + int64_t(r) * kHopperTileRows;
      if (row0 >= tokens) break;
      uint32_t x_frag[kKSteps][4];
      load_x_fragments(x_frag);
      __syncthreads();  // every warp holds its x: the stage may take the next row tile's
      const bool next = r + 1 < row_tiles && row0 + kHopperTileRows < tokens;
      if (next) {
        load_rows(L::kX, xh, row0 + kHopperTileRows, tokens);
        commit_async();
      }
      RowArgmin argmin(row_norms<T>(x_frag));
      for (int tile = 0; tile < tiles; ++tile) multiply(x_frag, tile, tile, argmin);
      argmin.write(sort_keys, sort_tokens, head, row0 + warp * 16, tokens, clusters, lane);
      if (next) {
        wait_async<0>();
        wg::fence_proxy_async();
        __syncthreads();  // the next row tile's x has landed
      }
    }
    return;
  }

  // Streamed centroids, one row tile per CTA: one cp.async group per tile ahead of the loop, the
  // first with x.
  load_rows(L::kX, xh, first_row, tokens);
  for (int tile = 0; tile < kHopperStages - 1; ++tile) {
    load_tile(tile, tile);
    if (tid < kHopperTileCentroids) norm_s[tile * kHopperTileCentroids + tid] = tile_norm(tile);
    commit_async();
  }
  wait_async<kHopperStages - 2>();  // x and tile 0
  wg::fence_proxy_async();  // cp.async writes, read next by the tensor core
  __syncthreads();
  uint32_t x_frag[kKSteps][4];
  load_x_fragments(x_frag);
  __syncthreads();  // every warp holds its x: the last stage may take its tile

  RowArgmin argmin(row_norms<T>(x_frag));
  int stage = 0;  // tile % kHopperStages
  for (int tile = 0; tile < tiles; ++tile) {
    // The fill stage held tile − 1 (x at tile 0), which every thread finished before the last barrier.
    const int fill = stage == 0 ? kHopperStages - 1 : stage - 1;
    const bool prefetch = tile + kHopperStages - 1 < tiles;
    float next_norm = CUDART_NAN_F;  // stored after the epilogue: its load's latency is hidden
    if (prefetch) {
      load_tile(tile + kHopperStages - 1, fill);
      if (tid < kHopperTileCentroids) next_norm = tile_norm(tile + kHopperStages - 1);
    }
    commit_async();
    multiply(x_frag, stage, tile, argmin);
    if (prefetch && tid < kHopperTileCentroids) norm_s[fill * kHopperTileCentroids + tid] = next_norm;
    wait_async<kHopperStages - 2>();  // all but the group just committed
    wg::fence_proxy_async();
    __syncthreads();  // tile + 1 has landed; this tile's stage is free
    stage = stage + 1 == kHopperStages ? 0 : stage + 1;
  }
  argmin.write(sort_keys, sort_tokens, head, first_row + warp * 16, tokens, clusters, lane);
#else
  __trap();  // only sm_90a code has a body; assign_sm90_runs_here() says where that is
#endif
}

// The stable counting sort of step 3. Head h's pairs fill positions [h·N, (h + 1)·N) with keys in
// [h·K, (h + 1)·K), so each head sorts alone, by label, in chunks of kSortChunkRows rows:
//   1. chunk_histogram_kernel: each chunk's label counts (shared-memory atomics), [BH, J, K];
//   2. chunk_bases_kernel: one CTA per head turns them, in (label, chunk) order, into each chunk's
//      first position per label, and writes the clusters' offsets;
//   3. chunk_scatter_kernel: a CTA per chunk stages its pairs in shared memory, then one warp walks
//      them in order, 32 at a time: lanes with one label (__match_any_sync) take consecutive places
//      after the label's running position, so equal labels keep their row order.
// Three launches per sort; CUB's radix sort of the 14-bit keys took four and a pass for the offsets
// (138 µs for the four sorts of a Wan-1.3B 480p call, docs/kernel-notes.md).
constexpr int kSortChunkRows = 2048;
constexpr int kSortThreads = 256;
constexpr int kSortRowsPerThread = kSortChunkRows / kSortThreads;
constexpr int kBaseThreads = 1024;
constexpr int64_t kMaxSortClusters = 16384;  // a chunk's counts in shared memory: 64 KB

int sort_chunks(int64_t tokens) { return int((tokens + kSortChunkRows - 1) / kSortChunkRows); }

__global__ void __launch_bounds__(kSortThreads)
    chunk_histogram_kernel(const int32_t* __restrict__ keys, int32_t* __restrict__ counts, int64_t tokens,
                           int64_t clusters) {
  extern __shared__ int32_t histogram[];  // [K]
  const int64_t head = blockIdx.y, chunk = blockIdx.x;
  for (int64_t l = threadIdx.x; l < clusters; l += kSortThreads) histogram[l] = 0;
  const int64_t begin = chunk * kSortChunkRows, end = min(tokens, begin + kSortChunkRows);
  const int32_t* hk = keys + head * tokens;
  int32_t label[kSortRowsPerThread];  // all loads in flight before the first atomic
  for (int i = 0; i < kSortRowsPerThread; ++i) {
    const int64_t r = begin + i * kSortThreads + threadIdx.x;
    label[i] = r < end ? int32_t(hk[r] - head * clusters) : -1;
  }
  __syncthreads();
  for (int i = 0; i < kSortRowsPerThread; ++i)
    if (label[i] >= 0) atomicAdd(&histogram[label[i]], 1);
  __syncthreads();
  int32_t* out = counts + (head * gridDim.x + chunk) * clusters;
  for (int64_t l = threadIdx.x; l < clusters; l += kSortThreads) out[l] = histogram[l];
}

// In place: counts[h][j][l] becomes the flat position of chunk j's first row of label l,
// h·N + (rows of labels < l in head h) + (rows of label l in chunks < j); offsets[h·K + l] = h·N +
// (rows of labels < l), offsets[BH·K] = BH·N. A thread takes a run of consecutive labels.
__global__ void __launch_bounds__(kBaseThreads)
    chunk_bases_kernel(int32_t* __restrict__ counts, int32_t* __restrict__ offsets, int64_t bh, int64_t tokens,
                       int64_t clusters, int chunks) {
  __shared__ int32_t warp_totals[kBaseThreads / 32];
  const int64_t head = blockIdx.x;
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int64_t per = (clusters + kBaseThreads - 1) / kBaseThreads;
  const int64_t first = min(clusters, tid * per), last = min(clusters, first + per);
  int32_t* hc = counts + head * chunks * clusters;
  int32_t mine = 0;  // rows of this thread's labels
  for (int64_t l = first; l < last; ++l)
    for (int j = 0; j < chunks; ++j) mine += hc[j * clusters + l];
  // Exclusive scan of the threads' totals: within each warp, then over the warps' totals.
  int32_t inclusive = mine;
  for (int delta = 1; delta < 32; delta *= 2) {
    const int32_t other = __shfl_up_sync(0xffffffffu, inclusive, delta);
    if (lane >= delta) inclusive += other;
  }
  if (lane == 31) warp_totals[warp] = inclusive;
  __syncthreads();
  if (warp == 0) {
    int32_t total = warp_totals[lane];
    for (int delta = 1; delta < 32; delta *= 2) {
      const int32_t other = __shfl_up_sync(0xffffffffu, total, delta);
      if (lane >= delta) total += other;
    }
    warp_totals[lane] = total - warp_totals[lane];  // exclusive
  }
  __syncthreads();
  int32_t position = int32_t(head * tokens) + warp_totals[warp] + inclusive - mine;
  for (int64_t l = first; l < last; ++l) {
    offsets[head * clusters + l] = position;
    // Eight chunks' counts loaded before their bases are stored: one round trip per eight, not
    // per chunk (a store to hc could alias the next load, so the compiler keeps them in order).
    for (int j0 = 0; j0 < chunks; j0 += 8) {
      int32_t n[8];
      for (int u = 0; u < 8; ++u) n[u] = j0 + u < chunks ? hc[(j0 + u) * clusters + l] : 0;
      for (int u = 0; u < 8 && j0 + u < chunks; ++u) {
        hc[(j0 + u) * clusters + l] = position;
        position += n[u];
      }
    }
  }
  if (head == bh - 1 && tid == 0) offsets[bh * clusters] = int32_t(bh * tokens);
}

__global__ void __launch_bounds__(kSortThreads)
    chunk_scatter_kernel(const int32_t* __restrict__ keys_in, const int32_t* __restrict__ tokens_in,
                         const int32_t* __restrict__ bases, int32_t* __restrict__ keys_out,
                         int32_t* __restrict__ tokens_out, int64_t tokens, int64_t clusters) {
  // The chunk's pairs staged by the whole CTA, so the ordered walk by its first warp reads shared
  // memory instead of waiting on a global load per step; then [K] running positions per label.
  __shared__ int32_t chunk_keys[kSortChunkRows], chunk_tokens[kSortChunkRows];
  extern __shared__ int32_t running[];
  const int64_t head = blockIdx.y, chunk = blockIdx.x;
  const int64_t begin = chunk * kSortChunkRows, end = min(tokens, begin + kSortChunkRows);
  const int rows = int(end - begin);
  for (int i = threadIdx.x; i < rows; i += kSortThreads) {
    chunk_keys[i] = keys_in[head * tokens + begin + i];
    chunk_tokens[i] = tokens_in[head * tokens + begin + i];
  }
  const int32_t* chunk_bases = bases + (head * gridDim.x + chunk) * clusters;
  for (int64_t l = threadIdx.x; l < clusters; l += kSortThreads) running[l] = chunk_bases[l];
  __syncthreads();
  if (threadIdx.x >= 32) return;
  const int lane = threadIdx.x;
  for (int i0 = 0; i0 < rows; i0 += 32) {
    const int i = i0 + lane;
    const bool valid = i < rows;
    // Rows past the chunk get keys no row has, one each.
    const int32_t key = valid ? chunk_keys[i] : -1 - lane;
    const unsigned peers = __match_any_sync(0xffffffffu, key);
    const int64_t label = key - head * clusters;
    if (valid) {
      const int32_t position = running[label] + __popc(peers & ((1u << lane) - 1u));
      keys_out[position] = key;
      tokens_out[position] = chunk_tokens[i];
    }
    __syncwarp();  // every lane has read its label's position
    if (valid && lane == 31 - __clz(peers)) running[label] += __popc(peers);
    __syncwarp();
  }
}

// `warps` warps per cluster (1, 2, 4 or 8; the launcher picks them from the mean cluster size), 8
// warps per block. A row is kLanesPerRow lanes × 16 bytes, so one load instruction reads
// kRowGroups rows and kLoadsInFlight of them run ahead: 12 rows in flight per warp at d = 128, 24 at
// d = 64 (the first version read a row per instruction, 4 in flight, and ran at 12% occupancy,
// latency bound; 4 loads ahead ran at 2.7 TB/s, long-scoreboard bound; 8 spill on sm_90a). The
// cluster's tokens come in batches of 32 (one coalesced load of their indices); warp w of a
// cluster takes batches w, w + warps, … One warp per cluster left the
// query clusters (~160 rows each, 2,400 at Wan-1.3B 480p: half a wave) at 13% occupancy, 72 µs per
// update against 47 for the 12,000 smaller key clusters. The row groups' and the warps' sums are
// added in a fixed order: deterministic. `points` (or null): row i of the sorted tokens goes to
// points[i], i.e. x in cluster order.
constexpr int kUpdateWarps = 8;

template <typename T, int D>
__global__ void __launch_bounds__(kUpdateWarps * 32)
    update_centroids_kernel(const T* __restrict__ x, const int32_t* __restrict__ sorted_tokens,
                            const int32_t* __restrict__ offsets, float* __restrict__ centroids,
                            T* __restrict__ points, int64_t tokens, int64_t clusters, int64_t count, int warps) {
  constexpr int kLanesPerRow = D * int(sizeof(T)) / 16;
  constexpr int kRowGroups = 32 / kLanesPerRow;
  constexpr int kLoadsInFlight = 6;
  constexpr int kRowsPerRound = kRowGroups * kLoadsInFlight;
  __shared__ float4 partial[kUpdateWarps][kLanesPerRow][2];  // each warp's sum, as its group-0 lanes hold it
  const int warp = int(threadIdx.x / 32), lane = int(threadIdx.x % 32);
  const int group = lane / kLanesPerRow, part = lane % kLanesPerRow;
  const int64_t g = blockIdx.x * int64_t(kUpdateWarps / warps) + warp / warps;  // head · K + cluster
  const int w = warp % warps;  // this warp's place among its cluster's
  const bool valid = g < count;
  const int begin = valid ? offsets[g] : 0, end = valid ? offsets[g + 1] : 0;
  const T* xh = x + (valid ? g / clusters : 0) * tokens * D + part * 8;
  float sum[8] = {};
  for (int batch = begin + 32 * w; batch < end; batch += 32 * warps) {
    const int in_batch = end - batch < 32 ? end - batch : 32;
    const int my_token = lane < in_batch ? sorted_tokens[batch + lane] : 0;
    for (int i = 0; i < in_batch; i += kRowsPerRound) {
      uint4 words[kLoadsInFlight];
#pragma unroll
      for (int l = 0; l < kLoadsInFlight; ++l) {
        const int r = i + l * kRowGroups + group;
        const int token = __shfl_sync(0xffffffffu, my_token, r & 31);
        words[l] = r < in_batch ? *reinterpret_cast<const uint4*>(xh + int64_t(token) * D) : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
      for (int l = 0; l < kLoadsInFlight; ++l) {
        const int r = i + l * kRowGroups + group;
        if (points && r < in_batch) *reinterpret_cast<uint4*>(points + (int64_t(batch) + r) * D + part * 8) = words[l];
        const T* e = reinterpret_cast<const T*>(&words[l]);  // a zero word is +0: the sum keeps its value
        for (int j = 0; j < 8; ++j) sum[j] += float(e[j]);
      }
    }
  }
  for (int delta = kLanesPerRow; delta < 32; delta *= 2)
    for (int j = 0; j < 8; ++j) sum[j] += __shfl_xor_sync(0xffffffffu, sum[j], delta);
  if (group == 0) {
    partial[warp][part][0] = make_float4(sum[0], sum[1], sum[2], sum[3]);
    partial[warp][part][1] = make_float4(sum[4], sum[5], sum[6], sum[7]);
  }
  __syncthreads();
  // The cluster's first warp adds the others' sums, in order, and writes the mean; an empty
  // cluster keeps its centroid.
  if (!valid || w != 0 || group != 0 || end == begin) return;
  for (int other = 1; other < warps; ++other) {
    const float4 a = partial[warp + other][part][0], b = partial[warp + other][part][1];
    sum[0] += a.x, sum[1] += a.y, sum[2] += a.z, sum[3] += a.w;
    sum[4] += b.x, sum[5] += b.y, sum[6] += b.z, sum[7] += b.w;
  }
  const float inverse = 1.0f / float(end - begin);
  float4* out = reinterpret_cast<float4*>(centroids + g * D + part * 8);
  out[0] = make_float4(sum[0] * inverse, sum[1] * inverse, sum[2] * inverse, sum[3] * inverse);
  out[1] = make_float4(sum[4] * inverse, sum[5] * inverse, sum[6] * inverse, sum[7] * inverse);
}

// The last iteration's outputs from its sort: labels (scattered back to token order), the stable
// cluster order and per-row offsets (cluster_layout's, without sorting again), the sizes.
__global__ void write_layout_kernel(const int32_t* __restrict__ sorted_keys, const int32_t* __restrict__ sorted_tokens,
                                    const int32_t* __restrict__ flat_offsets, int64_t* __restrict__ labels,
                                    int64_t* __restrict__ order, int64_t* __restrict__ offsets,
                                    int64_t* __restrict__ sizes, int64_t bh, int64_t tokens, int64_t clusters) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < bh * tokens) {
    const int64_t head = i / tokens, token = sorted_tokens[i];
    order[i] = token;
    labels[head * tokens + token] = sorted_keys[i] - head * clusters;
  }
  if (i < bh * (clusters + 1)) {
    const int64_t head = i / (clusters + 1), c = i % (clusters + 1), g = head * clusters + c;
    offsets[i] = flat_offsets[g] - head * tokens;
    if (c < clusters) sizes[g] = flat_offsets[g + 1] - flat_offsets[g];
  }
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
  int32_t* counts = nullptr;      // [BH, J, K] the sort's chunk counts, then its chunk bases
  int64_t total_bytes = 0;
};

Workspace carve(void* base, int64_t bh, int64_t tokens, int64_t head_dim, int64_t clusters) {
  const int64_t total = bh * tokens, count = bh * clusters;
  Workspace w;
  WorkspaceCarver carver(base);
  w.rounded = carver.take<uint16_t>(count * head_dim);  // bf16 or fp16
  w.norms = carver.take<float>(count);
  w.keys_in = carver.take<int32_t>(total);
  w.keys_out = carver.take<int32_t>(total);
  w.tokens_in = carver.take<int32_t>(total);
  w.tokens_out = carver.take<int32_t>(total);
  w.offsets = carver.take<int32_t>(count + 1);
  w.counts = carver.take<int32_t>(bh * sort_chunks(tokens) * clusters);
  w.total_bytes = carver.bytes();
  return w;
}

// assign_sm90_kernel's row tiles per CTA: kResidentRowTiles where its centroids stay resident.
int hopper_row_tiles_per_cta(int64_t clusters) {
  return centroids_stay_resident(clusters) ? kResidentRowTiles : 1;
}

bool assign_sm90_runs_here() {
  return sm90a_code_runs_here(reinterpret_cast<const void*>(assign_sm90_kernel<__nv_bfloat16, 128>));
}

template <typename T, int D>
void run_typed(const KMeansCudaArgs& a, cudaStream_t stream) {
  const int64_t total = a.bh * a.tokens, count = a.bh * a.clusters;
  Workspace w = carve(a.workspace, a.bh, a.tokens, a.head_dim, a.clusters);
  T* rounded = static_cast<T*>(w.rounded);
  const T* x = static_cast<const T*>(a.x);
  constexpr int kWarpsPerBlock = kThreads / 32;
  const unsigned cluster_blocks = unsigned((count + kWarpsPerBlock - 1) / kWarpsPerBlock);
  // The two assignment kernels write the same outputs.
  const bool hopper = a.allow_wgmma && assign_sm90_runs_here();
  const int assign_threads = hopper ? kHopperThreads : kThreads;
  const int assign_rows = hopper ? kHopperTileRows : kTileRows;
  const int assign_smem = hopper ? HopperAssignLayout<T, D>::kBytes
                                 : 2 * kTileCentroids * (D + kRowPad) * int(sizeof(T)) +
                                       2 * kTileCentroids * int(sizeof(float));
  if (hopper) {
    cudaFuncSetAttribute(assign_sm90_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, assign_smem);
  } else {
    cudaFuncSetAttribute(assign_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, assign_smem);
  }
  const int row_tiles_per_cta = hopper ? hopper_row_tiles_per_cta(a.clusters) : 1;
  const int64_t row_tiles = (a.tokens + assign_rows - 1) / assign_rows;
  const dim3 assign_grid(unsigned((row_tiles + row_tiles_per_cta - 1) / row_tiles_per_cta), unsigned(a.bh));
  // Warps per cluster for the update: a batch of 32 tokens each at the mean cluster size, up to 8.
  int update_warps = 1;
  while (update_warps < kUpdateWarps && int64_t(32) * update_warps * a.clusters < a.tokens) update_warps *= 2;
  const int64_t clusters_per_block = kUpdateWarps / update_warps;
  const int chunks = sort_chunks(a.tokens);
  const dim3 sort_grid(unsigned(chunks), unsigned(a.bh));
  const int sort_smem = int(a.clusters * sizeof(int32_t));
  // The most any call asks for, so the attribute never shrinks under another thread's launch or a
  // captured graph's replay.
  constexpr int kMaxSortSmem = int(kMaxSortClusters * sizeof(int32_t));
  cudaFuncSetAttribute(chunk_histogram_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kMaxSortSmem);
  cudaFuncSetAttribute(chunk_scatter_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kMaxSortSmem);
  const unsigned update_blocks = unsigned((count + clusters_per_block - 1) / clusters_per_block);
  for (int it = 0; it < a.iterations; ++it) {
    prepare_centroids_kernel<T><<<cluster_blocks, kThreads, 0, stream>>>(a.centroids, rounded, w.norms, count, D);
    if (hopper) {
      assign_sm90_kernel<T, D><<<assign_grid, assign_threads, assign_smem, stream>>>(
          x, rounded, w.norms, w.keys_in, w.tokens_in, a.tokens, a.clusters, row_tiles_per_cta);
    } else {
      assign_kernel<T, D><<<assign_grid, assign_threads, assign_smem, stream>>>(x, rounded, w.norms, w.keys_in,
                                                                                w.tokens_in, a.tokens, a.clusters);
    }
    chunk_histogram_kernel<<<sort_grid, kSortThreads, sort_smem, stream>>>(w.keys_in, w.counts, a.tokens, a.clusters);
    chunk_bases_kernel<<<unsigned(a.bh), kBaseThreads, 0, stream>>>(w.counts, w.offsets, a.bh, a.tokens, a.clusters,
                                                                   chunks);
    chunk_scatter_kernel<<<sort_grid, kSortThreads, sort_smem, stream>>>(w.keys_in, w.tokens_in, w.counts, w.keys_out,
                                                                         w.tokens_out, a.tokens, a.clusters);
    T* points = it + 1 == a.iterations ? static_cast<T*>(a.points) : nullptr;
    update_centroids_kernel<T, D><<<update_blocks, kUpdateWarps * 32, 0, stream>>>(
        x, w.tokens_out, w.offsets, a.centroids, points, a.tokens, a.clusters, count, update_warps);
  }
  const int64_t layout_threads = total > a.bh * (a.clusters + 1) ? total : a.bh * (a.clusters + 1);
  write_layout_kernel<<<unsigned((layout_threads + 255) / 256), 256, 0, stream>>>(
      w.keys_out, w.tokens_out, w.offsets, a.labels, a.order, a.offsets, a.sizes, a.bh, a.tokens, a.clusters);
}

}  // namespace

bool kmeans_cuda_supports(int64_t bh, int64_t tokens, int64_t head_dim, int64_t clusters) {
  constexpr int64_t kMaxFlat = int64_t(1) << 30;  // int32 sort keys and token indices
  return (head_dim == 64 || head_dim == 128) && bh >= 1 && bh <= 65535 && tokens >= 1 && clusters >= 1 &&
         clusters <= kMaxSortClusters && bh * tokens < kMaxFlat && bh * clusters < kMaxFlat &&
         bh * sort_chunks(tokens) * clusters < kMaxFlat;
}

int64_t kmeans_cuda_workspace_bytes(int64_t bh, int64_t tokens, int64_t head_dim, int64_t clusters) {
  return carve(nullptr, bh, tokens, head_dim, clusters).total_bytes;
}

void launch_kmeans(const KMeansCudaArgs& a, cudaStream_t stream) {
  dispatch_half_head_dim(a.element, a.head_dim, [&](auto element, auto dim) {
    run_typed<decltype(element), decltype(dim)::value>(a, stream);
  });
}

}  // namespace svgear
