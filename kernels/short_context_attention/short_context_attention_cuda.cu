#include "kernels/short_context_attention/short_context_attention_cuda.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>

#include "kernels/common/half_precision_dispatch.cuh"
#include "kernels/common/mma_sm80.cuh"

namespace svgear {
namespace {

using namespace mma_sm80;

// A CTA of kWarps warps serves one head: it loads the head's keys and values (at most 64 rows, the
// rest zero with weight 2^-inf) into shared memory once, and each warp then takes 16-query tiles
// (mma's m16), kTilesPerWarp of them strided over the CTAs, so the K/V load is paid once per 32
// tiles. The logits of a tile are all its keys at once (no online softmax: one tile of keys), so a
// tile is Q·Kᵀ (8 n8 columns × d/16 k-steps), an exact softmax in registers, P·V (4 k16 steps ×
// d/8 columns). The work is Q's read and O's write (the products are ~10% of the memory time at
// L = 25), so each warp double-buffers its Q tile: the next tile's rows land by cp.async while this
// one computes, and the finished tile leaves through its own buffer as whole 16-byte row pieces.
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kRows = 16;
constexpr int kKeys = kShortContextMaxKeys;
constexpr int kTilesPerWarp = 8;
constexpr int kPad = 8;  // 16 bytes per shared row: ldmatrix's 8 row addresses fall in distinct banks
constexpr float kLog2e = 1.4426950408889634f;

template <typename T, int D>
struct SharedTiles {
  static constexpr int kStride = D + kPad;
  T k[kKeys][kStride];
  T v[kKeys][kStride];
  T q[kWarps][2][kRows][kStride];  // per warp: this tile's rows (then its output) and the next's
  float log2_weights[kKeys];
};

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) short_context_attention_kernel(const ShortContextAttentionArgs a) {
  extern __shared__ __align__(16) unsigned char smem[];
  SharedTiles<T, D>& sh = *reinterpret_cast<SharedTiles<T, D>*>(smem);
  constexpr int kStride = SharedTiles<T, D>::kStride;
  constexpr int kVectors = D / 8;   // 16-byte pieces of a row
  constexpr int kKSteps = D / 16;   // k16 steps of Q·Kᵀ
  constexpr int kKeyTiles = kKeys / 8;
  constexpr int kDimTiles = D / 8;
  const int tid = int(threadIdx.x), warp = tid / 32, lane = tid % 32;
  const int64_t bh = blockIdx.y, batch = bh / a.heads, head = bh % a.heads;

  const T* k = static_cast<const T*>(a.k) + bh * a.keys * D;
  const T* v = static_cast<const T*>(a.v) + bh * a.keys * D;
  for (int i = tid; i < kKeys * kVectors; i += kThreads) {
    const int r = i / kVectors, c = i % kVectors;
    const bool real = r < a.keys;
    copy16_async(&sh.k[r][c * 8], k + (real ? r : 0) * D + c * 8, real ? 16 : 0);
    copy16_async(&sh.v[r][c * 8], v + (real ? r : 0) * D + c * 8, real ? 16 : 0);
  }
  commit_async();
  if (tid < kKeys) sh.log2_weights[tid] = tid < a.keys ? a.key_log_weights[tid] * kLog2e : -CUDART_INF_F;

  const T* q_head = static_cast<const T*>(a.q) + batch * a.q_batch_stride + head * a.q_head_stride;
  T* out_head = static_cast<T*>(a.out) + batch * a.out_batch_stride + head * a.out_head_stride;
  const int64_t tiles = (a.tokens + kRows - 1) / kRows;
  const int64_t step = int64_t(gridDim.x) * kWarps;
  // Lane l copies pieces l, l + 32, ... of the tile's 16 rows; rows past N read nothing (zeros).
  const auto load_q = [&](int64_t tile, int buffer) {
    for (int i = lane; i < kRows * kVectors; i += 32) {
      const int r = i / kVectors, c = i % kVectors;
      const int64_t row = tile * kRows + r;
      const bool real = row < a.tokens;
      copy16_async(&sh.q[warp][buffer][r][c * 8], q_head + (real ? row : 0) * a.q_row_stride + c * 8, real ? 16 : 0);
    }
    commit_async();
  };
  int64_t tile = int64_t(blockIdx.x) * kWarps + warp;
  if (tile < tiles) load_q(tile, 0);
  wait_async<0>();
  __syncthreads();  // K, V and the weights, for every warp

  const float scale2 = a.scale * kLog2e;  // e^x = 2^(x·log2 e)
  for (int buffer = 0; tile < tiles; tile += step, buffer ^= 1) {
    if (tile + step < tiles) {
      load_q(tile + step, buffer ^ 1);
    } else {
      commit_async();  // an empty group: the wait below always leaves exactly the newest pending
    }
    wait_async<1>();
    __syncwarp();  // the other lanes' copies of this tile are visible

    // S = Q·Kᵀ: Q's A fragments by ldmatrix (lanes 0-15 rows at k, 16-31 at k + 8); K's B fragments
    // (keys +0-7 / +8-15 by lane/16, d +0 / +8 by (lane/8)%2).
    const T* q_tile = &sh.q[warp][buffer][0][0];
    float s[kKeyTiles][4];
    for (int nt = 0; nt < kKeyTiles; ++nt)
      for (int e = 0; e < 4; ++e) s[nt][e] = 0.0f;
#pragma unroll
    for (int kt = 0; kt < kKSteps; ++kt) {
      uint32_t qa[4];
      ldmatrix_x4(qa, q_tile + (lane % 16) * kStride + (lane / 16) * 8 + kt * 16);
#pragma unroll
      for (int nt2 = 0; nt2 < kKeyTiles / 2; ++nt2) {
        uint32_t kb[4];
        ldmatrix_x4(kb, &sh.k[nt2 * 16 + (lane % 8) + (lane / 16) * 8][kt * 16 + ((lane / 8) % 2) * 8]);
        Element<T>::mma(s[2 * nt2], qa, kb[0], kb[1]);
        Element<T>::mma(s[2 * nt2 + 1], qa, kb[2], kb[3]);
      }
    }

    // The softmax of rows lane/4 (e = 0, 1) and lane/4 + 8 (e = 2, 3); a row's 64 columns are spread
    // over the 4 lanes of a quad. Every row has a real key, so its max is finite and its sum >= 1.
    float row_max[2] = {-CUDART_INF_F, -CUDART_INF_F};
#pragma unroll
    for (int nt = 0; nt < kKeyTiles; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[nt][e] = s[nt][e] * scale2 + sh.log2_weights[nt * 8 + 2 * (lane % 4) + e % 2];
        row_max[e / 2] = fmaxf(row_max[e / 2], s[nt][e]);
      }
    float row_sum[2] = {0.0f, 0.0f};
#pragma unroll
    for (int r = 0; r < 2; ++r)
      for (int delta = 1; delta < 4; delta *= 2)
        row_max[r] = fmaxf(row_max[r], __shfl_xor_sync(0xffffffffu, row_max[r], delta));
#pragma unroll
    for (int nt = 0; nt < kKeyTiles; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[nt][e] = fast_exp2(s[nt][e] - row_max[e / 2]);
        row_sum[e / 2] += s[nt][e];
      }
#pragma unroll
    for (int r = 0; r < 2; ++r)
      for (int delta = 1; delta < 4; delta *= 2) row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], delta);

    // O = P·V: two S column tiles side by side are one A fragment; V's B fragments by
    // ldmatrix.trans (keys +0-7 / +8-15 by (lane/8)%2, d +0 / +8 by lane/16).
    float o[kDimTiles][4];
    for (int dt = 0; dt < kDimTiles; ++dt)
      for (int e = 0; e < 4; ++e) o[dt][e] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk) {
      const uint32_t pa[4] = {Element<T>::pack(s[2 * kk][0], s[2 * kk][1]), Element<T>::pack(s[2 * kk][2], s[2 * kk][3]),
                              Element<T>::pack(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                              Element<T>::pack(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int dt2 = 0; dt2 < kDimTiles / 2; ++dt2) {
        uint32_t vb[4];
        ldmatrix_x4_trans(vb, &sh.v[kk * 16 + (lane % 8) + ((lane / 8) % 2) * 8][dt2 * 16 + (lane / 16) * 8]);
        Element<T>::mma(o[2 * dt2], pa, vb[0], vb[1]);
        Element<T>::mma(o[2 * dt2 + 1], pa, vb[2], vb[3]);
      }
    }

    // The normalised rows through this tile's Q buffer (every lane's ldmatrix of it is done), then
    // out as 16-byte pieces.
    const float inverse[2] = {1.0f / row_sum[0], 1.0f / row_sum[1]};
    __syncwarp();
    T* staged = &sh.q[warp][buffer][0][0];
#pragma unroll
    for (int dt = 0; dt < kDimTiles; ++dt) {
      const int column = dt * 8 + 2 * (lane % 4);
      *reinterpret_cast<uint32_t*>(staged + (lane / 4) * kStride + column) =
          Element<T>::pack(o[dt][0] * inverse[0], o[dt][1] * inverse[0]);
      *reinterpret_cast<uint32_t*>(staged + (lane / 4 + 8) * kStride + column) =
          Element<T>::pack(o[dt][2] * inverse[1], o[dt][3] * inverse[1]);
    }
    __syncwarp();
    for (int i = lane; i < kRows * kVectors; i += 32) {
      const int r = i / kVectors, c = i % kVectors;
      const int64_t row = tile * kRows + r;
      if (row < a.tokens) {
        *reinterpret_cast<uint4*>(out_head + row * a.out_row_stride + c * 8) =
            *reinterpret_cast<const uint4*>(staged + r * kStride + c * 8);
      }
    }
    __syncwarp();  // the buffer is refilled with the tile after next in the next iteration
  }
}

template <typename T, int D>
void launch_typed(const ShortContextAttentionArgs& a, cudaStream_t stream) {
  auto kernel = short_context_attention_kernel<T, D>;
  constexpr int kSharedBytes = int(sizeof(SharedTiles<T, D>));
  // A failure surfaces as the launch's error, which the op checks.
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSharedBytes);
  const int64_t tiles = (a.tokens + kRows - 1) / kRows;
  const int64_t ctas = (tiles + kWarps * kTilesPerWarp - 1) / (kWarps * kTilesPerWarp);
  kernel<<<dim3(unsigned(ctas), unsigned(a.batch * a.heads)), kThreads, kSharedBytes, stream>>>(a);
}

}  // namespace

bool short_context_attention_cuda_supports(int64_t head_dim, int64_t keys) {
  return (head_dim == 64 || head_dim == 128) && keys >= 1 && keys <= kShortContextMaxKeys;
}

void launch_short_context_attention(const ShortContextAttentionArgs& a, cudaStream_t stream) {
  dispatch_half_head_dim(a.element, a.head_dim, [&](auto element, auto dim) {
    launch_typed<decltype(element), decltype(dim)::value>(a, stream);
  });
}

}  // namespace svgear
