#pragma once
// What the two block-sparse attention kernels (sm_80 mma.sync in block_sparse_attention_cuda.cu,
// sm_90a wgmma in block_sparse_attention_sm90.cu) share per query tile: which tile a CTA owns, the
// key stream of its query cluster, the online softmax over that stream and the output write. Both
// kernels hold scores and outputs in the same accumulator layout (one warp = 16 rows; element e of
// 8-column tile nt: row lane/4 + 8·(e/2), column nt·8 + 2·(lane%4) + e%2).
//
// * Query tile = up to R consecutive permuted rows of ONE query cluster (R = 64 for the sm_80
//   kernel, 128 = two warpgroups' 64 for the sm_90a one), so every row of the tile shares the
//   cluster's block-mask row. A cluster of m rows has ceil(m/R) tiles; the sm_90a kernel gives a
//   last tile of at most 64 rows (a tail) to its one-consumer launch. CTA (x, bh) takes head bh's
//   x-th tile (or tail) from the list of query tiles (query_tiles.cuh).
// * Key stream = the concatenation of (1) the rows of every routed key cluster (contiguous ranges of
//   kp/vp, back to back, so small clusters do not each waste a tile) and (2) with compensation, one
//   virtual key per skipped non-empty cluster (k̄_j, v̄_j, logit bias log n_j). Both kinds go through
//   the same online softmax: the spec's single softmax over exact keys ∪ centroids (§3.2). Slots past
//   the end read the head's first key and value (any finite row: no zero-fill, so every copy is a
//   plain 16-byte one) and get bias −inf, which gives them weight exactly 0.

#include <cstdint>

#include "kernels/block_sparse_attention/block_sparse_attention_cuda.cuh"
#include "kernels/block_sparse_attention/query_tiles.cuh"
#include "kernels/common/mma_sm80.cuh"

namespace svgear::block_sparse {

constexpr int kTileRows = 64;  // query rows of one warp group (4 warps × 16)
constexpr int kTileKeys = 64;
constexpr int kMaxKeyClusters = 8192;  // the cluster lists live in shared memory (12 bytes each)
constexpr float kMinusInfinity = -__builtin_inff();

// Shared-memory bytes of the cluster lists: routed starts [Kc], routed prefix [Kc+1], skipped [Kc].
__host__ __device__ constexpr int key_list_bytes(int64_t k_clusters) { return int(3 * k_clusters + 1) * int(sizeof(int)); }

struct QueryTile {
  int cluster = 0;
  int64_t begin = 0;  // first permuted row
  int rows = 0;       // 1..R
};

// The query tile CTA `index` of `head` takes from the list (query_tiles.cuh): one of the head's
// tiles, or with `tail` one of its tails; false past the head's count (the grid is an upper bound).
// The record and the count are read together: every index of the grid lies within the list.
__device__ inline bool listed_tile(const BlockSparseAttentionArgs& a, int64_t head, int index, bool tail,
                                   QueryTile& out) {
  const QueryTiles list(a.workspace, a.bh, a.q_rows, a.q_clusters);
  const TileRecord record = tail ? list.tails[head * a.q_clusters + index] : list.tiles[head * list.tiles_per_head + index];
  const int count = tail ? list.tail_count[head] : list.tile_count[head];
  if (index >= count) return false;
  out.cluster = record.cluster;
  out.begin = record.begin;
  out.rows = record.rows;
  return true;
}

// One query cluster's key stream, its lists in shared memory.
template <typename T>
struct KeyStream {
  int* routed_start = nullptr;  // [Kc] first kp row of the i-th routed cluster
  int* routed_cum = nullptr;    // [Kc+1] keys before the i-th routed cluster
  int* skipped = nullptr;       // [Kc] the i-th skipped non-empty cluster
  int routed_keys = 0, stream_keys = 0;
  const T* kp = nullptr;  // this head's rows
  const T* vp = nullptr;
  const T* kbar = nullptr;  // this head's centroids, or null (SVG2)
  const T* vbar = nullptr;
  const int64_t* k_sizes = nullptr;
  int64_t stride = 0;  // elements per row (the head dim)

  // One key slot: where its K and V rows come from and its logit bias in base 2 (0 for exact keys,
  // log2 n_j for a centroid, −inf past the end).
  struct Source {
    const T* k;
    const T* v;
    float bias;
  };

  // `cursor` is the caller's position in the routed list: a thread's slots only grow, so it walks
  // the ranges instead of searching them.
  __device__ Source resolve(int slot, int& cursor) const {
    if (slot < routed_keys) {
      while (routed_cum[cursor + 1] <= slot) ++cursor;
      const int64_t row = routed_start[cursor] + (slot - routed_cum[cursor]);
      return {kp + row * stride, vp + row * stride, 0.0f};
    }
    if (slot < stream_keys) {
      const int j = skipped[slot - routed_keys];
      return {kbar + int64_t(j) * stride, vbar + int64_t(j) * stride, log2f(float(k_sizes[j]))};
    }
    return {kp, vp, kMinusInfinity};
  }
};

// Builds the stream of query cluster `cluster` of `head` into `lists` (key_list_bytes of shared
// memory): the routed key clusters (with their key ranges) and the skipped non-empty ones, in
// cluster order. Every warp takes one contiguous slice of the cluster row and reads it twice: once
// to count its entries, then, with the counts of the warps before it as its offsets, to write them
// by ballots (the second read hits L1). One warp walking the whole row took a round of global
// latency per 32 clusters, ~30 rounds at Kc = 1000, with the CTA waiting: 11.5% of the sm90
// kernel's stall samples sat on the barrier after it (docs/kernel-notes.md). Every thread of the
// CTA must call it (it holds CTA barriers); at most kMaxStreamWarps warps.
constexpr int kMaxStreamWarps = 16;
constexpr int kStreamStaticBytes = kMaxStreamWarps * 3 * int(sizeof(int));  // its static shared memory

template <typename T, int D>
__device__ KeyStream<T> build_key_stream(const BlockSparseAttentionArgs& a, int64_t head, int cluster, int* lists) {
  __shared__ int warp_counts[kMaxStreamWarps][3];  // per warp: routed clusters, routed keys, skipped
  const int64_t kc_count = a.k_clusters;
  KeyStream<T> s;
  s.routed_start = lists;
  s.routed_cum = lists + kc_count;
  s.skipped = lists + 2 * kc_count + 1;
  s.stride = D;
  s.kp = static_cast<const T*>(a.kp) + head * a.k_rows * D;
  s.vp = static_cast<const T*>(a.vp) + head * a.k_rows * D;
  const bool compensate = a.k_centroids != nullptr;
  if (compensate) {
    s.kbar = static_cast<const T*>(a.k_centroids) + head * kc_count * D;
    s.vbar = static_cast<const T*>(a.v_means) + head * kc_count * D;
    s.k_sizes = a.k_sizes + head * kc_count;
  }
  const int warps = int(blockDim.x / 32), warp = int(threadIdx.x / 32), lane = int(threadIdx.x % 32);
  const int64_t slice = (kc_count + 32 * warps - 1) / (32 * warps) * 32;  // whole ballots per warp
  const int64_t first = warp * slice, last = first + slice < kc_count ? first + slice : kc_count;
  const bool* mask_row = a.block_mask + (head * a.q_clusters + cluster) * kc_count;
  const int64_t* k_off = a.k_offsets + head * (kc_count + 1);
  struct Entry {
    bool routed, skip;
    int begin, size;
  };
  const auto entry = [&](int64_t j) {
    Entry e{false, false, 0, 0};
    if (j < last) {
      const bool routed_block = mask_row[j];
      e.begin = int(k_off[j]);
      e.size = int(k_off[j + 1] - k_off[j]);
      e.routed = routed_block && e.size > 0;
      e.skip = compensate && !routed_block && s.k_sizes[j] > 0;
    }
    return e;
  };
  int routed_count = 0, routed_keys = 0, skipped_count = 0;
  for (int64_t j0 = first; j0 < last; j0 += 32) {
    const Entry e = entry(j0 + lane);
    routed_count += __popc(__ballot_sync(0xffffffffu, e.routed));
    routed_keys += __reduce_add_sync(0xffffffffu, unsigned(e.routed ? e.size : 0));
    skipped_count += __popc(__ballot_sync(0xffffffffu, e.skip));
  }
  if (lane == 0) {
    warp_counts[warp][0] = routed_count;
    warp_counts[warp][1] = routed_keys;
    warp_counts[warp][2] = skipped_count;
  }
  __syncthreads();
  // This warp's offsets are the counts of the warps before it; the totals size the stream.
  int total_keys = 0, total_skipped = 0;
  routed_count = routed_keys = skipped_count = 0;
  for (int w = 0; w < warps; ++w) {
    if (w == warp) {
      routed_keys = total_keys;
      skipped_count = total_skipped;
    }
    if (w < warp) routed_count += warp_counts[w][0];
    total_keys += warp_counts[w][1];
    total_skipped += warp_counts[w][2];
  }
  const unsigned lanes_below = (1u << lane) - 1u;
  if (threadIdx.x == 0) s.routed_cum[0] = 0;
  for (int64_t j0 = first; j0 < last; j0 += 32) {
    const Entry e = entry(j0 + lane);
    int inclusive = e.routed ? e.size : 0;  // warp scan of the routed sizes
    for (int delta = 1; delta < 32; delta *= 2) {
      const int other = __shfl_up_sync(0xffffffffu, inclusive, delta);
      if (lane >= delta) inclusive += other;
    }
    const unsigned routed_bits = __ballot_sync(0xffffffffu, e.routed);
    if (e.routed) {
      const int slot = routed_count + __popc(routed_bits & lanes_below);
      s.routed_start[slot] = e.begin;
      s.routed_cum[slot + 1] = routed_keys + inclusive;
    }
    const unsigned skipped_bits = __ballot_sync(0xffffffffu, e.skip);
    if (e.skip) s.skipped[skipped_count + __popc(skipped_bits & lanes_below)] = int(j0 + lane);
    routed_count += __popc(routed_bits);
    routed_keys += __shfl_sync(0xffffffffu, inclusive, 31);
    skipped_count += __popc(skipped_bits);
  }
  __syncthreads();
  s.routed_keys = total_keys;
  s.stream_keys = total_keys + total_skipped;
  return s;
}

// The running softmax of one warp's 16 query rows over the key stream, in base 2.
struct OnlineSoftmax {
  float scale_log2;                                   // softmax scale · log2 e
  float row_max[2] = {kMinusInfinity, kMinusInfinity};  // rows lane/4 and lane/4 + 8
  float row_sum[2] = {0.0f, 0.0f};                    // this thread's share; the quad adds up at the end

  // Turns one key tile's scores s (raw Q·Kᵀ) into weights P in place and adds them to the row sums.
  // A plain tile (every slot an exact key: no virtual-key bias, nothing masked) needs no bias: its
  // max is taken on the raw scores and each weight is one FFMA + EX2; others add the bias first.
  // Returns whether a row's max moved; only then must the output rows be multiplied by rescale[h].
  // Once the running maxima settle most tiles move none, and the warp skips those multiplies.
  // bias(column) gives a non-plain tile's logit bias per key column.
  template <int kKeyTiles, typename Bias>
  __device__ bool step(float (&s)[kKeyTiles][4], bool plain, const Bias& bias, float (&rescale)[2]) {
    using mma_sm80::fast_exp2;
    const int lane = threadIdx.x % 32;
    float tile_max[2] = {kMinusInfinity, kMinusInfinity};
    if (plain) {
      for (int nt = 0; nt < kKeyTiles; ++nt)
        for (int e = 0; e < 4; ++e) tile_max[e / 2] = fmaxf(tile_max[e / 2], s[nt][e]);
    } else {
      for (int nt = 0; nt < kKeyTiles; ++nt) {
        for (int e = 0; e < 4; ++e) {
          s[nt][e] = fmaf(s[nt][e], scale_log2, bias(nt * 8 + 2 * (lane % 4) + (e % 2)));
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
      shift[h] = new_max[h] == kMinusInfinity ? 0.0f : new_max[h];  // a row with nothing yet stays at zero weight
    }
    const bool moved = !__all_sync(0xffffffffu, new_max[0] == row_max[0] && new_max[1] == row_max[1]);
    for (int h = 0; h < 2; ++h) {
      rescale[h] = moved ? fast_exp2(row_max[h] - shift[h]) : 1.0f;
      row_sum[h] *= rescale[h];
      row_max[h] = new_max[h];
    }
    for (int nt = 0; nt < kKeyTiles; ++nt) {
      for (int e = 0; e < 4; ++e) {
        const float p = plain ? fast_exp2(fmaf(s[nt][e], scale_log2, -shift[e / 2])) : fast_exp2(s[nt][e] - shift[e / 2]);
        s[nt][e] = p;
        row_sum[e / 2] += p;
      }
    }
    return moved;
  }

  template <int kDimTiles>
  static __device__ void rescale_rows(float (&acc)[kDimTiles][4], const float (&rescale)[2]) {
    for (int dt = 0; dt < kDimTiles; ++dt)
      for (int e = 0; e < 4; ++e) acc[dt][e] *= rescale[e / 2];
  }
};

// The 16-key A fragment of P·V (k-step kk) from the weights of one key tile: two 8-column
// accumulator tiles side by side hold exactly an A fragment's elements (mma_sm80.cuh).
template <typename T, int kKeyTiles>
__device__ inline void pack_weights(const float (&p)[kKeyTiles][4], int kk, uint32_t (&frag)[4]) {
  using mma_sm80::Element;
  frag[0] = Element<T>::pack(p[2 * kk][0], p[2 * kk][1]);
  frag[1] = Element<T>::pack(p[2 * kk][2], p[2 * kk][3]);
  frag[2] = Element<T>::pack(p[2 * kk + 1][0], p[2 * kk + 1][1]);
  frag[3] = Element<T>::pack(p[2 * kk + 1][2], p[2 * kk + 1][3]);
}

// Normalises this warp's rows of the tile and writes them, scattered back to the original token
// order when the op asks for it. A row with nothing to attend writes zeros.
template <typename T, int D>
__device__ void write_tile_output(const BlockSparseAttentionArgs& a, int64_t head, const QueryTile& tile,
                                  const float (&acc)[D / 8][4], const OnlineSoftmax& softmax) {
  const int warp = threadIdx.x / 32 % 4, lane = threadIdx.x % 32;
  T* out = static_cast<T*>(a.out) + head * a.out_head_stride;
  for (int h = 0; h < 2; ++h) {
    float total = softmax.row_sum[h];
    total += __shfl_xor_sync(0xffffffffu, total, 1);
    total += __shfl_xor_sync(0xffffffffu, total, 2);
    const float inverse = total > 0.0f ? 1.0f / total : 0.0f;
    const int r = warp * 16 + lane / 4 + 8 * h;
    if (r >= tile.rows) continue;
    const int64_t permuted_row = tile.begin + r;
    const int64_t row = a.out_order ? a.out_order[head * a.q_rows + permuted_row] : permuted_row;
    T* dst = out + row * a.out_row_stride + 2 * (lane % 4);
    for (int dt = 0; dt < D / 8; ++dt) {
      *reinterpret_cast<uint32_t*>(dst + dt * 8) =
          mma_sm80::Element<T>::pack(acc[dt][2 * h] * inverse, acc[dt][2 * h + 1] * inverse);
    }
  }
}

}  // namespace svgear::block_sparse
