#include "kernels/block_sparse_attention/block_sparse_attention_cuda.cuh"

#include <math_constants.h>

#include "kernels/common/mma_sm80.cuh"

namespace svgear {
namespace {

using namespace mma_sm80;

// Layout and tiling (a FlashAttention-2 style kernel for sm_80+, mma.sync m16n8k16):
//
// * Work unit = a query tile: up to kTileRows consecutive permuted rows of ONE query cluster, so
//   every row of the tile shares the cluster's block-mask row. A cluster of m rows has ceil(m/64)
//   tiles; tile_offsets[bh][c] is their exclusive prefix sum and CTA (x, bh) takes tile x.
// * Key stream = the concatenation of (1) the rows of every routed key cluster (contiguous ranges of
//   kp/vp, ranges back to back, so small clusters do not each waste a tile) and (2) with
//   compensation, one virtual key per skipped non-empty cluster (k̄_j, v̄_j, logit bias log n_j).
//   Both kinds go through the same online softmax, which is the spec's single softmax over exact
//   keys ∪ centroids (§3.2). The stream is consumed in tiles of kTileKeys, double-buffered with
//   cp.async; slots past the end are zero-filled and get bias −inf.
// * 4 warps, each owns 16 query rows; scores S = Q·Kᵀ and the output accumulator live in registers
//   in the mma accumulator layout; P is re-packed in registers as the A operand of P·V.
// * Shared-memory rows are padded by 8 elements (16 bytes) so the 8 row addresses of an ldmatrix
//   phase fall into different banks.
constexpr int kTileRows = 64;
constexpr int kTileKeys = 64;
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kRowPad = 8;
constexpr int kMaxKeyClusters = 8192;  // per-CTA cluster lists live in shared memory (12 bytes each)

// Exclusive prefix sum of ceil(rows / kTileRows) over the query clusters of each head.
__global__ void query_tile_offsets_kernel(const int64_t* __restrict__ q_offsets, int32_t* __restrict__ tile_offsets,
                                          int64_t bh, int64_t q_clusters) {
  const int64_t head = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (head >= bh) return;
  const int64_t* off = q_offsets + head * (q_clusters + 1);
  int32_t* tiles = tile_offsets + head * (q_clusters + 1);
  int32_t total = 0;
  tiles[0] = 0;
  for (int64_t c = 0; c < q_clusters; ++c) {
    total += int32_t((off[c + 1] - off[c] + kTileRows - 1) / kTileRows);
    tiles[c + 1] = total;
  }
}

template <typename T, int D>
struct SharedLayout {
  static constexpr int kStride = D + kRowPad;  // elements per padded row
  static constexpr int kQBytes = kTileRows * kStride * int(sizeof(T));
  static constexpr int kKvTileBytes = kTileKeys * kStride * int(sizeof(T));
  static constexpr int kBiasBytes = 2 * kTileKeys * int(sizeof(float));
  // q tile, 2 K tiles, 2 V tiles, 2 bias rows, then the cluster lists (3·Kc + 1 ints)
  static constexpr int kFixedBytes = kQBytes + 4 * kKvTileBytes + kBiasBytes;
  static int bytes(int64_t k_clusters) { return kFixedBytes + int(3 * k_clusters + 1) * int(sizeof(int)); }
};

template <typename T, int D>
__global__ void __launch_bounds__(kThreads, 2) block_sparse_attention_kernel(const BlockSparseAttentionArgs a) {
  using L = SharedLayout<T, D>;
  constexpr int kStride = L::kStride;
  constexpr int kVectorsPerRow = D * int(sizeof(T)) / 16;  // 16-byte cp.async chunks per row
  constexpr int kKTiles = D / 16;                          // k-steps of Q·Kᵀ
  constexpr int kKeyTiles = kTileKeys / 8;                 // n-tiles of S
  constexpr int kDimTiles = D / 8;                         // n-tiles of O

  extern __shared__ __align__(16) unsigned char smem[];
  T* q_s = reinterpret_cast<T*>(smem);
  T* k_s = reinterpret_cast<T*>(smem + L::kQBytes);                       // [2][kTileKeys][kStride]
  T* v_s = reinterpret_cast<T*>(smem + L::kQBytes + 2 * L::kKvTileBytes);  // [2][kTileKeys][kStride]
  float* bias_s = reinterpret_cast<float*>(smem + L::kQBytes + 4 * L::kKvTileBytes);  // [2][kTileKeys]
  int* routed_start = reinterpret_cast<int*>(smem + L::kFixedBytes);  // [Kc] first kp row of routed cluster
  int* routed_cum = routed_start + a.k_clusters;                      // [Kc+1] keys before routed cluster
  int* skipped = routed_cum + a.k_clusters + 1;                       // [Kc] skipped non-empty clusters
  __shared__ int list_sizes[3];                                       // routed, routed keys, skipped

  const int64_t head = blockIdx.y;
  const int tile = blockIdx.x;
  const int64_t qc_count = a.q_clusters, kc_count = a.k_clusters;
  const int32_t* tiles = a.tile_offsets + head * (qc_count + 1);
  if (tile >= tiles[qc_count]) return;
  int lo = 0, hi = int(qc_count);  // tiles[lo] <= tile < tiles[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (tiles[mid] <= tile) lo = mid; else hi = mid;
  }
  const int cluster = lo;
  const int64_t* q_off = a.q_offsets + head * (qc_count + 1);
  const int64_t q_begin = q_off[cluster] + int64_t(tile - tiles[cluster]) * kTileRows;
  const int64_t rows_left = q_off[cluster + 1] - q_begin;
  const int rows = rows_left < kTileRows ? int(rows_left) : kTileRows;

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const T* qp = static_cast<const T*>(a.qp) + head * a.q_rows * D;
  const T* kp = static_cast<const T*>(a.kp) + head * a.k_rows * D;
  const T* vp = static_cast<const T*>(a.vp) + head * a.k_rows * D;
  const bool compensate = a.k_centroids != nullptr;
  const T* kbar = compensate ? static_cast<const T*>(a.k_centroids) + head * kc_count * D : nullptr;
  const T* vbar = compensate ? static_cast<const T*>(a.v_means) + head * kc_count * D : nullptr;
  const int64_t* k_sizes = compensate ? a.k_sizes + head * kc_count : nullptr;

  // Q tile → shared (rows past the cluster's end are zeros).
  for (int i = tid; i < kTileRows * kVectorsPerRow; i += kThreads) {
    const int r = i / kVectorsPerRow, vec = i % kVectorsPerRow;
    const bool valid = r < rows;
    copy16_async(q_s + r * kStride + vec * 8, qp + (q_begin + (valid ? r : 0)) * D + vec * 8, valid ? 16 : 0);
  }
  commit_async();

  // Warp 0 lists this query cluster's routed key clusters (with their key ranges) and skipped
  // non-empty ones, in cluster order, by ballots.
  if (warp == 0) {
    const bool* mask_row = a.block_mask + (head * qc_count + cluster) * kc_count;
    const int64_t* k_off = a.k_offsets + head * (kc_count + 1);
    const unsigned lanes_below = (1u << lane) - 1u;
    int routed_count = 0, routed_keys = 0, skipped_count = 0;
    if (lane == 0) routed_cum[0] = 0;
    for (int64_t j0 = 0; j0 < kc_count; j0 += 32) {
      const int64_t j = j0 + lane;
      const bool in_range = j < kc_count;
      const bool routed_block = in_range && mask_row[j];
      const int64_t begin = in_range ? k_off[j] : 0;
      const int size = in_range ? int(k_off[j + 1] - begin) : 0;
      const bool routed = routed_block && size > 0;
      const bool skip = compensate && in_range && !routed_block && k_sizes[j] > 0;
      int inclusive = routed ? size : 0;  // warp scan of the routed sizes
      for (int delta = 1; delta < 32; delta *= 2) {
        const int other = __shfl_up_sync(0xffffffffu, inclusive, delta);
        if (lane >= delta) inclusive += other;
      }
      const unsigned routed_bits = __ballot_sync(0xffffffffu, routed);
      if (routed) {
        const int slot = routed_count + __popc(routed_bits & lanes_below);
        routed_start[slot] = int(begin);
        routed_cum[slot + 1] = routed_keys + inclusive;
      }
      const unsigned skipped_bits = __ballot_sync(0xffffffffu, skip);
      if (skip) skipped[skipped_count + __popc(skipped_bits & lanes_below)] = int(j);
      routed_count += __popc(routed_bits);
      routed_keys += __shfl_sync(0xffffffffu, inclusive, 31);
      skipped_count += __popc(skipped_bits);
    }
    if (lane == 0) {
      list_sizes[0] = routed_count;
      list_sizes[1] = routed_keys;
      list_sizes[2] = skipped_count;
    }
  }
  __syncthreads();
  const int routed_keys = list_sizes[1];
  const int stream_keys = routed_keys + list_sizes[2];
  const int key_tiles = (stream_keys + kTileKeys - 1) / kTileKeys;

  // Loader: thread tid copies chunks tid, tid + kThreads, ... of the 64-key tile; its slots only
  // grow, so a per-thread cursor walks the routed ranges instead of searching them.
  int cursor = 0;
  auto load_tile = [&](int key_tile, int buf) {
    T* kdst = k_s + buf * kTileKeys * kStride;
    T* vdst = v_s + buf * kTileKeys * kStride;
    for (int i = tid; i < kTileKeys * kVectorsPerRow; i += kThreads) {
      const int r = i / kVectorsPerRow, vec = i % kVectorsPerRow;
      const int slot = key_tile * kTileKeys + r;
      const T* ksrc = kp;
      const T* vsrc = vp;
      int bytes = 16;
      float bias = 0.0f;
      if (slot < routed_keys) {
        while (routed_cum[cursor + 1] <= slot) ++cursor;
        const int64_t row = routed_start[cursor] + (slot - routed_cum[cursor]);
        ksrc = kp + row * D;
        vsrc = vp + row * D;
      } else if (slot < stream_keys) {
        const int j = skipped[slot - routed_keys];
        ksrc = kbar + int64_t(j) * D;
        vsrc = vbar + int64_t(j) * D;
        bias = log2f(float(k_sizes[j]));
      } else {
        bytes = 0;
        bias = -CUDART_INF_F;
      }
      copy16_async(kdst + r * kStride + vec * 8, ksrc + vec * 8, bytes);
      copy16_async(vdst + r * kStride + vec * 8, vsrc + vec * 8, bytes);
      if (vec == 0) bias_s[buf * kTileKeys + r] = bias;
    }
  };
  if (key_tiles > 0) load_tile(0, 0);
  commit_async();

  // This warp's Q rows as mma A fragments (ldmatrix: lanes 0-15 rows 0-15 at k, 16-31 at k + 8).
  wait_async<1>();
  __syncthreads();
  uint32_t q_frag[kKTiles][4];
  {
    const T* base = q_s + (warp * 16 + (lane % 16)) * kStride + (lane / 16) * 8;
    for (int kt = 0; kt < kKTiles; ++kt) ldmatrix_x4(q_frag[kt], base + kt * 16);
  }

  const float scale_log2 = a.scale * 1.4426950408889634f;  // exp(x) = exp2(x·log2 e)
  float acc[kDimTiles][4];
  for (int dt = 0; dt < kDimTiles; ++dt)
    for (int e = 0; e < 4; ++e) acc[dt][e] = 0.0f;
  float row_max[2] = {-CUDART_INF_F, -CUDART_INF_F};  // rows lane/4 and lane/4 + 8 of the warp
  float row_sum[2] = {0.0f, 0.0f};                      // this thread's share; the quad adds up at the end

  for (int kt_tile = 0; kt_tile < key_tiles; ++kt_tile) {
    const int buf = kt_tile & 1;
    if (kt_tile + 1 < key_tiles) load_tile(kt_tile + 1, buf ^ 1);
    commit_async();
    wait_async<1>();
    __syncthreads();

    const T* kbuf = k_s + buf * kTileKeys * kStride;
    const T* vbuf = v_s + buf * kTileKeys * kStride;
    const float* bias = bias_s + buf * kTileKeys;

    // S = Q·Kᵀ. ldmatrix x4 lanes: keys +0-7 / +8-15 by lane/16, d +0 / +8 by (lane/8)%2.
    float s[kKeyTiles][4];
    for (int nt = 0; nt < kKeyTiles; ++nt)
      for (int e = 0; e < 4; ++e) s[nt][e] = 0.0f;
    for (int kt = 0; kt < kKTiles; ++kt) {
      for (int nt2 = 0; nt2 < kKeyTiles / 2; ++nt2) {
        uint32_t b[4];
        ldmatrix_x4(b, kbuf + (nt2 * 16 + (lane % 8) + (lane / 16) * 8) * kStride + kt * 16 + ((lane / 8) % 2) * 8);
        Element<T>::mma(s[2 * nt2], q_frag[kt], b[0], b[1]);
        Element<T>::mma(s[2 * nt2 + 1], q_frag[kt], b[2], b[3]);
      }
    }

    // Online softmax in base 2. Element e of n-tile nt: row lane/4 + 8·(e/2), key nt·8 + 2·(lane%4) + e%2.
    // A plain tile (every slot an exact key: no virtual-key bias, nothing masked) needs no bias: its
    // max is taken on the raw scores and each weight is one FFMA + EX2. Others add the bias first.
    const bool plain = (kt_tile + 1) * kTileKeys <= routed_keys;
    float tile_max[2] = {-CUDART_INF_F, -CUDART_INF_F};
    if (plain) {
      for (int nt = 0; nt < kKeyTiles; ++nt)
        for (int e = 0; e < 4; ++e) tile_max[e / 2] = fmaxf(tile_max[e / 2], s[nt][e]);
    } else {
      for (int nt = 0; nt < kKeyTiles; ++nt) {
        for (int e = 0; e < 4; ++e) {
          s[nt][e] = fmaf(s[nt][e], scale_log2, bias[nt * 8 + 2 * (lane % 4) + (e % 2)]);
          tile_max[e / 2] = fmaxf(tile_max[e / 2], s[nt][e]);
        }
      }
    }
    float shift[2], new_max[2];
    for (int h = 0; h < 2; ++h) {
      tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 1));
      tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 2));
      if (plain) tile_max[h] *= scale_log2;  // scale > 0: the max commutes with it
      new_max[h] = fmaxf(row_max[h], tile_max[h]);
      shift[h] = new_max[h] == -CUDART_INF_F ? 0.0f : new_max[h];  // a row with nothing yet stays at zero weight
    }
    // Once the running maxima settle, most tiles leave every row's max unchanged: the rescale factor
    // is then exactly 1 and the warp skips the 2·D/8·2 multiplies.
    if (!__all_sync(0xffffffffu, new_max[0] == row_max[0] && new_max[1] == row_max[1])) {
      for (int h = 0; h < 2; ++h) {
        const float rescale = fast_exp2(row_max[h] - shift[h]);
        row_sum[h] *= rescale;
        for (int dt = 0; dt < kDimTiles; ++dt) {
          acc[dt][2 * h] *= rescale;
          acc[dt][2 * h + 1] *= rescale;
        }
      }
    }
    row_max[0] = new_max[0];
    row_max[1] = new_max[1];
    for (int nt = 0; nt < kKeyTiles; ++nt) {
      for (int e = 0; e < 4; ++e) {
        const float p = plain ? fast_exp2(fmaf(s[nt][e], scale_log2, -shift[e / 2])) : fast_exp2(s[nt][e] - shift[e / 2]);
        s[nt][e] = p;
        row_sum[e / 2] += p;
      }
    }

    // O += P·V. P's accumulator layout is already the A layout of a k-step over 16 keys; V comes
    // transposed by ldmatrix.trans (lanes: keys +0-7 / +8-15 by (lane/8)%2, d +0 / +8 by lane/16).
    for (int kk = 0; kk < kTileKeys / 16; ++kk) {
      uint32_t p_frag[4];
      p_frag[0] = Element<T>::pack(s[2 * kk][0], s[2 * kk][1]);
      p_frag[1] = Element<T>::pack(s[2 * kk][2], s[2 * kk][3]);
      p_frag[2] = Element<T>::pack(s[2 * kk + 1][0], s[2 * kk + 1][1]);
      p_frag[3] = Element<T>::pack(s[2 * kk + 1][2], s[2 * kk + 1][3]);
      for (int dt2 = 0; dt2 < kDimTiles / 2; ++dt2) {
        uint32_t b[4];
        ldmatrix_x4_trans(b, vbuf + (kk * 16 + (lane % 8) + ((lane / 8) % 2) * 8) * kStride + dt2 * 16 + (lane / 16) * 8);
        Element<T>::mma(acc[2 * dt2], p_frag, b[0], b[1]);
        Element<T>::mma(acc[2 * dt2 + 1], p_frag, b[2], b[3]);
      }
    }
    __syncthreads();  // the next iteration's loads overwrite the buffer read here
  }
  wait_async<0>();

  // Normalise and write, scattering rows back to the original token order when asked.
  T* out = static_cast<T*>(a.out) + head * a.q_rows * D;
  for (int h = 0; h < 2; ++h) {
    float total = row_sum[h];
    total += __shfl_xor_sync(0xffffffffu, total, 1);
    total += __shfl_xor_sync(0xffffffffu, total, 2);
    const float inverse = total > 0.0f ? 1.0f / total : 0.0f;  // nothing to attend → zeros
    const int r = warp * 16 + lane / 4 + 8 * h;
    if (r >= rows) continue;
    const int64_t permuted_row = q_begin + r;
    const int64_t row = a.out_order ? a.out_order[head * a.q_rows + permuted_row] : permuted_row;
    T* dst = out + row * D + 2 * (lane % 4);
    for (int dt = 0; dt < kDimTiles; ++dt) {
      *reinterpret_cast<uint32_t*>(dst + dt * 8) =
          Element<T>::pack(acc[dt][2 * h] * inverse, acc[dt][2 * h + 1] * inverse);
    }
  }
}

template <typename T, int D>
void launch_typed(const BlockSparseAttentionArgs& a, cudaStream_t stream) {
  const int smem = SharedLayout<T, D>::bytes(a.k_clusters);
  auto kernel = block_sparse_attention_kernel<T, D>;
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  // Upper bound of the tiles of a head: each cluster wastes less than one tile.
  const int64_t max_tiles = (a.q_rows + kTileRows - 1) / kTileRows + a.q_clusters;
  const dim3 grid(unsigned(max_tiles), unsigned(a.bh));
  kernel<<<grid, kThreads, smem, stream>>>(a);
}

}  // namespace

bool block_sparse_attention_cuda_supports(int64_t head_dim, int64_t k_clusters) {
  return (head_dim == 64 || head_dim == 128) && k_clusters >= 1 && k_clusters <= kMaxKeyClusters;
}

int64_t block_sparse_attention_workspace_bytes(int64_t bh, int64_t q_clusters) {
  return bh * (q_clusters + 1) * int64_t(sizeof(int32_t));
}

void launch_block_sparse_attention(const BlockSparseAttentionArgs& a, cudaStream_t stream) {
  if (a.bh == 0 || a.q_rows == 0) return;
  constexpr int kPrepThreads = 128;
  query_tile_offsets_kernel<<<unsigned((a.bh + kPrepThreads - 1) / kPrepThreads), kPrepThreads, 0, stream>>>(
      a.q_offsets, a.tile_offsets, a.bh, a.q_clusters);
  const bool bf16 = a.element == HalfPrecision::BFloat16;
  if (a.head_dim == 64) {
    bf16 ? launch_typed<__nv_bfloat16, 64>(a, stream) : launch_typed<__half, 64>(a, stream);
  } else {
    bf16 ? launch_typed<__nv_bfloat16, 128>(a, stream) : launch_typed<__half, 128>(a, stream);
  }
}

}  // namespace svgear
