#include "kernels/error_probe/error_probe_cuda.cuh"

#include <math_constants.h>

#include "kernels/common/half_precision_dispatch.cuh"
#include "kernels/common/mma_sm80.cuh"
#include "kernels/common/workspace_carver.h"

namespace svgear {
namespace {

using namespace mma_sm80;

// The probe (spec §3.3, error_probe.h) for every (query centroid i, key cluster j):
//   m = max(ℓ_ij, max_t z_t),  z_t = s·q̄_i·k_t over the keys t of cluster j,
//   S2 = Σ e^{2(z_t − m)}·||v_t||²,  S1 = Σ e^{z_t − m}·⟨v̄_j, v_t⟩,  c = e^{ℓ_ij − m},
//   log ε̂² = log(max(S2 − 2c·S1 + c²·n_j·||v̄_j||², eps)) + 2m,  score = log ε̂² − γ·log(max(m_i·n_j, eps)).
// (m, S2, S1) of two parts of a block merge exactly (rescale both to the larger m), so a block can
// be summed in pieces, in any grouping.
//
// 1. value_gather: one warp per key cluster gathers its rows of V into cluster order (vp), with v̄_j,
//    n_j·||v̄_j||² and ||v_t||², ⟨v̄_j, v_t⟩ of its tokens.
// 2. probe: a CTA takes kTileRows query centroids and kChunkClusters consecutive key clusters, i.e.
//    one contiguous range of permuted keys, streamed in tiles of kTileKeys (cp.async, double
//    buffered). Tensor cores compute z for the tile (q̄ split into two 16-bit terms, hi + lo, so z
//    keeps ~16 significant bits rather than the 8 of a bf16 q̄) into shared memory; the N × Qc
//    logits never reach global memory. The tile's keys fall into runs, one per cluster (keys are
//    sorted by cluster), listed once per tile. A work item is one run for 32 query centroids, a lane
//    per centroid: two plain passes over the run's keys (their maximum, then S2 and S1 at it), then
//    one exact merge into the block's state in shared memory. A block has one run per tile, so every
//    state has one writer per tile: no atomics, no chain between threads. At the end every thread
//    turns block states into log ε̂² and scores.
//    (Earlier walks: one thread per query centroid over the whole tile, 64 dependent steps, left the
//    kernel latency-bound at 14% issue use; four walkers per centroid, 16 keys each, passed runs
//    that crossed their edges along a shuffle chain and merged online at every key: 621 µs at
//    Wan-1.3B 480p, most of it in the walk's branches and merges.)
// 128 query centroids per CTA: every CTA streams its whole key range (copies, run lists, three
// barriers per key tile) whatever its rows, and with 64 the Qc = 200 of Wan-1.3B took four row tiles,
// the last with 8 rows, so half the streaming was for 72 rows. With 128 it takes two.
constexpr int kTileRows = 128;
constexpr int kTileKeys = 64;
// Key clusters per CTA: its block states (3 floats × kTileRows × kChunkClusters, 26 KB) live in
// shared memory, and ~16 clusters of a few dozen keys give each CTA ~8 key tiles to stream.
constexpr int kChunkClusters = 16;
constexpr int kWarps = 8;  // mma: 8 row groups of 16, each over the tile's keys in two halves of 32
constexpr int kThreads = kWarps * 32;
constexpr int kItemRows = 32;  // query centroids per work item of the walk, one per lane
constexpr int kItemGroups = kTileRows / kItemRows;
static_assert(kTileRows == kWarps * 16 && kTileKeys == 64,
              "a 16-row mma group per warp; the run list is two 32-key ballots");
constexpr int kRowPad = 8;
constexpr float kEps = 1e-8f;  // spec §3.3: floor of the cancelled error and of the block area
// 16-byte loads a lane keeps in flight in value_gather_kernel (as in cluster_means_kernel): at 4 the
// value statistics ran at 2 TB/s, long-scoreboard bound, their warps' clusters of ~33 rows five
// dependent rounds each.
constexpr int kValueLoadsInFlight = 8;

// z rows kTileKeys + 1 floats apart: the 32 lanes of a work item (32 rows, one key) read 32 banks.
constexpr int kZStride = kTileKeys + 1;

struct Workspace {
  float* value_norms;  // [BH·N]
  float* value_dots;   // [BH·N]
  float* mean_terms;   // [BH·Kc]
  int64_t total_bytes;
};

Workspace carve(void* base, int64_t bh, int64_t tokens, int64_t k_clusters) {
  WorkspaceCarver carver(base);
  Workspace w;
  w.value_norms = carver.take<float>(bh * tokens);
  w.value_dots = carver.take<float>(bh * tokens);
  w.mean_terms = carver.take<float>(bh * k_clusters);
  w.total_bytes = carver.bytes();
  return w;
}

// One warp per key cluster (cluster_means_kernel's gather, cluster_permutation_cuda.cu, with the
// statistics added). A row is D/8 lanes × 16 bytes, 32/(D/8) rows per load instruction,
// kValueLoadsInFlight loads ahead; the cluster's rows are read from V in token order through the
// key layout's order (32 indices per coalesced load) and written to vp in cluster order as they
// pass, with ||v_t||² and the running sum, added in cluster_means_kernel's order so v̄_j matches
// gather_tokens_and_means bit for bit. ⟨v̄_j, v_t⟩ needs the finished mean: a second pass reads the
// rows back, each lane the words it wrote: a cluster's first 32 rows from a copy the warp keeps in
// shared memory (8 KB at d = 128), the rest from L2. The first version read vp in a kernel of its
// own after the gather (two passes over V from memory: 72 + 46 µs at Wan-1.3B 480p on an H200);
// reading every row back from L2 took 124 µs, with the copy 102.5.
constexpr int kGatherThreads = 128;  // cluster_means_kernel's blocks
constexpr int kStashRows = 32;       // one batch of order entries

// Five blocks (20 warps) per SM at 96 registers (ptxas spills 40 bytes on sm_90a, none on sm_80):
// without the bound it takes 120 (four blocks); six blocks (80 registers, a 48-byte spill) measured
// 107 µs against five's 102.5 (H200, Wan-1.3B 480p).
template <typename T, int D>
__global__ void __launch_bounds__(kGatherThreads, 5) value_gather_kernel(const T* __restrict__ v, const int64_t* __restrict__ k_order,
                                    const int64_t* __restrict__ k_offsets, T* vp, float* __restrict__ v_means,
                                    float* __restrict__ value_norms, float* __restrict__ value_dots,
                                    float* __restrict__ mean_terms, int64_t tokens, int64_t v_head, int64_t v_row,
                                    int64_t k_clusters, int64_t count) {
  constexpr int kLanesPerRow = D * int(sizeof(T)) / 16;
  constexpr int kRowGroups = 32 / kLanesPerRow;
  constexpr int kRowsPerRound = kRowGroups * kValueLoadsInFlight;
  static_assert(32 % kRowsPerRound == 0, "a round's rows within one batch of 32 order entries");
  static_assert(kStashRows == 32, "the copy holds the first batch of order entries");
  const int64_t g = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32;  // head · Kc + j
  const int lane = threadIdx.x % 32, group = lane / kLanesPerRow, part = lane % kLanesPerRow;
  __shared__ uint4 stash_rows[kGatherThreads / 32][kStashRows * kLanesPerRow];
  uint4* stash = stash_rows[threadIdx.x / 32];  // the warp's: [row][part], no thread reads another's word
  if (g >= count) return;
  const int64_t head = g / k_clusters;
  const int64_t begin = k_offsets[head * (k_clusters + 1) + g % k_clusters];
  const int64_t end = k_offsets[head * (k_clusters + 1) + g % k_clusters + 1];
  const T* source = v + head * v_head + part * 8;
  const int64_t* order = k_order + head * tokens;
  T* rows = vp + head * tokens * D + part * 8;
  float* norms = value_norms + head * tokens;
  float* dots = value_dots + head * tokens;
  // Sums of one row's lanes: ||v_t||² and ⟨v̄_j, v_t⟩ reduced in one fixed order.
  auto row_total = [](float x) {
    for (int delta = kLanesPerRow / 2; delta > 0; delta /= 2) x += __shfl_xor_sync(0xffffffffu, x, delta);
    return x;
  };
  float sum[8] = {};
  for (int64_t batch = begin; batch < end; batch += 32) {
    const int in_batch = end - batch < 32 ? int(end - batch) : 32;
    const int64_t my_token = lane < in_batch ? order[batch + lane] : 0;
    for (int i = 0; i < in_batch; i += kRowsPerRound) {
      uint4 words[kValueLoadsInFlight];
#pragma unroll
      for (int l = 0; l < kValueLoadsInFlight; ++l) {
        const int r = i + l * kRowGroups + group;
        const int64_t token = __shfl_sync(0xffffffffu, my_token, r & 31);
        words[l] = r < in_batch ? *reinterpret_cast<const uint4*>(source + token * v_row) : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
      for (int l = 0; l < kValueLoadsInFlight; ++l) {
        const int r = i + l * kRowGroups + group;
        if (r < in_batch) *reinterpret_cast<uint4*>(rows + (batch + r) * D) = words[l];
        if (batch == begin) stash[r * kLanesPerRow + part] = words[l];
        const T* e = reinterpret_cast<const T*>(&words[l]);  // a zero word is +0: the sum keeps its value
        float norm = 0.0f;
        for (int x = 0; x < 8; ++x) {
          const float value = float(e[x]);
          sum[x] += value;
          norm += value * value;
        }
        norm = row_total(norm);
        if (part == 0 && r < in_batch) norms[batch + r] = norm;
      }
    }
  }
  for (int delta = kLanesPerRow; delta < 32; delta *= 2)
    for (int x = 0; x < 8; ++x) sum[x] += __shfl_xor_sync(0xffffffffu, sum[x], delta);
  const float inverse = end > begin ? 1.0f / float(end - begin) : 0.0f;
  float mean[8];
  float mean_norm = 0.0f;
  for (int x = 0; x < 8; ++x) {
    mean[x] = sum[x] * inverse;
    mean_norm += mean[x] * mean[x];
  }
  mean_norm = row_total(mean_norm);
  if (group == 0) {
    float4* out = reinterpret_cast<float4*>(v_means + g * D + part * 8);
    out[0] = make_float4(mean[0], mean[1], mean[2], mean[3]);
    out[1] = make_float4(mean[4], mean[5], mean[6], mean[7]);
  }
  if (lane == 0) mean_terms[g] = float(end - begin) * mean_norm;
  // Rows begin + k·kRowsPerRound + l·kRowGroups + group, as above (batches and rounds both start at
  // multiples of kRowGroups past begin): every lane reads back only its own stores.
  static_assert(kLanesPerRow * 16 == D * int(sizeof(T)), "a stash row and a vp row have one stride");
  for (int64_t first = begin; first < end; first += kRowsPerRound) {
    // A generic pointer either way (no round straddles the copy's end, as asserted above): one load
    // instruction, where a branch between a shared and a global load made ptxas hold both (120
    // registers).
    const unsigned char* round = first - begin < kStashRows
                                     ? reinterpret_cast<const unsigned char*>(stash + (first - begin) * kLanesPerRow + part)
                                     : reinterpret_cast<const unsigned char*>(rows + first * D);
    uint4 words[kValueLoadsInFlight];
#pragma unroll
    for (int l = 0; l < kValueLoadsInFlight; ++l) {
      const int r = l * kRowGroups + group;
      words[l] = first + r < end ? *reinterpret_cast<const uint4*>(round + r * D * int(sizeof(T)))
                                 : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int l = 0; l < kValueLoadsInFlight; ++l) {
      const T* e = reinterpret_cast<const T*>(&words[l]);
      float dot = 0.0f;
      for (int x = 0; x < 8; ++x) dot += float(e[x]) * mean[x];
      dot = row_total(dot);
      const int64_t r = first + l * kRowGroups + group;
      if (part == 0 && r < end) dots[r] = dot;
    }
  }
}

// A block's running (m, S2, S1).
struct BlockSums {
  float m, s2, s1;
  __device__ __forceinline__ void merge(float m_other, float s2_other, float s1_other) {
    const float top = fmaxf(m, m_other);
    const float a = __expf(m - top), b = __expf(m_other - top);
    s2 = s2 * a * a + s2_other * b * b;
    s1 = s1 * a + s1_other * b;
    m = top;
  }
};

template <typename T, int D>
struct ProbeShared {
  static constexpr int kStride = D + kRowPad;
  // q̄'s two terms pass through these bytes into registers one after the other, before the first
  // key tile lands in them: 96 KB per CTA at d = 128, so two CTAs share an SM.
  union {
    T q[kTileRows * kStride];
    T k[2][kTileKeys * kStride];
  };
  float z[kTileRows * kZStride];
  float value_norm[2][kTileKeys];
  float value_dot[2][kTileKeys];
  int cluster[2][kTileKeys];  // chunk-relative cluster of each key of the tile; −1 past the range
  // The tile's runs of one cluster: run r is keys run_start[r] .. run_start[r + 1] − 1, and
  // run_start[runs] is the tile's count of keys in range.
  int run_start[2][kTileKeys + 1];
  int runs[2];
  // Block states of the chunk, [row][cluster], rows padded by one against bank conflicts.
  float state_m[kTileRows][kChunkClusters + 1];
  float state_s2[kTileRows][kChunkClusters + 1];
  float state_s1[kTileRows][kChunkClusters + 1];
  int offsets[kChunkClusters + 1];  // the chunk clusters' boundaries, in permuted key rows
};

// Two CTAs per SM (what the shared memory allows at d = 128): 16 warps to hide the walk's latency.
template <typename T, int D>
__global__ void __launch_bounds__(kThreads, 2) probe_kernel(const ErrorProbeCudaArgs a,
                                                         const float* __restrict__ value_norms,
                                                         const float* __restrict__ value_dots,
                                                         const float* __restrict__ mean_terms) {
  using Shared = ProbeShared<T, D>;
  constexpr int kStride = Shared::kStride;
  constexpr int kVectorsPerRow = D * int(sizeof(T)) / 16;
  constexpr int kKTiles = D / 16;
  constexpr int kWarpKeys = kTileKeys / 2;  // each warp: 16 rows × the tile's keys, 32 at a time
  extern __shared__ __align__(16) unsigned char smem_bytes[];
  Shared& sh = *reinterpret_cast<Shared*>(smem_bytes);

  const int64_t head = blockIdx.z;
  const int64_t i0 = int64_t(blockIdx.y) * kTileRows;
  const int64_t j0 = int64_t(blockIdx.x) * kChunkClusters;
  const int64_t qc = a.q_clusters, kc = a.k_clusters;
  const int chunk = int(kc - j0 < kChunkClusters ? kc - j0 : kChunkClusters);
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int64_t* k_off = a.k_offsets + head * (kc + 1) + j0;
  const T* kp = static_cast<const T*>(a.kp) + head * a.tokens * D;
  const float* vn = value_norms + head * a.tokens;
  const float* vd = value_dots + head * a.tokens;

  for (int t = tid; t <= chunk; t += kThreads) sh.offsets[t] = int(k_off[t]);
  // A block's state starts at (ℓ_ij, 0, 0): m = max(ℓ_ij, max z) as the formula has it.
  for (int t = tid; t < kTileRows * kChunkClusters; t += kThreads) {
    const int r = t / kChunkClusters, c = t % kChunkClusters;
    const bool valid = i0 + r < qc && c < chunk;
    sh.state_m[r][c] = valid ? a.logits[(head * qc + i0 + r) * kc + j0 + c] : 0.0f;
    sh.state_s2[r][c] = 0.0f;
    sh.state_s1[r][c] = 0.0f;
  }
  // Rows past Qc (the last row tile holds Qc mod 128 valid ones, e.g. 72 of 128 at Qc = 200) are
  // not walked, and a warp's 16 mma rows that all lie past it are not multiplied.
  const bool mma_rows_valid = i0 + warp * 16 < qc;
  // Work items cover only the 32-row groups that hold a valid row.
  const int item_groups = int(qc - i0 >= kTileRows ? kItemGroups : (qc - i0 + kItemRows - 1) / kItemRows);
  // One term of q̄ (this warp's 16 rows) through shared memory into A fragments.
  const int frag_offset = (warp * 16 + (lane % 16)) * kStride + (lane / 16) * 8;
  auto load_q_term = [&](const void* term, uint32_t (&frag)[kKTiles][4]) {
    const T* src = static_cast<const T*>(term) + head * qc * D;
    for (int t = tid; t < kTileRows * kVectorsPerRow; t += kThreads) {
      const int r = t / kVectorsPerRow, vec = t % kVectorsPerRow;
      const bool valid = i0 + r < qc;
      copy16_async(sh.q + r * kStride + vec * 8, src + (valid ? i0 + r : 0) * D + vec * 8, valid ? 16 : 0);
    }
    commit_async();
    wait_async<0>();
    __syncthreads();  // the term's tile (and, the first time, the offsets and block states)
    for (int kt = 0; kt < kKTiles; ++kt) ldmatrix_x4(frag[kt], sh.q + frag_offset + kt * 16);
    __syncthreads();  // every warp holds its fragments: the next copy may overwrite the tile
  };
  uint32_t hi_frag[kKTiles][4], lo_frag[kKTiles][4];
  load_q_term(a.q_hi, hi_frag);
  load_q_term(a.q_lo, lo_frag);
  const int key_begin = sh.offsets[0], key_end = sh.offsets[chunk];
  const int tiles = (key_end - key_begin + kTileKeys - 1) / kTileKeys;

  auto load_tile = [&](int tile, int buf) {
    const int base = key_begin + tile * kTileKeys;
    for (int t = tid; t < kTileKeys * kVectorsPerRow; t += kThreads) {
      const int r = t / kVectorsPerRow, vec = t % kVectorsPerRow;
      const bool valid = base + r < key_end;
      copy16_async(sh.k[buf] + r * kStride + vec * 8, kp + int64_t(valid ? base + r : 0) * D + vec * 8,
                   valid ? 16 : 0);
    }
    if (tid < kTileKeys) {
      // In the tile's copy group too: a plain load here held these two warps (and, at the next
      // barrier, the CTA) for a global round trip per tile.
      const int row = base + tid;
      const bool valid = row < key_end;
      copy4_async(&sh.value_norm[buf][tid], vn + (valid ? row : 0), valid ? 4 : 0);
      copy4_async(&sh.value_dot[buf][tid], vd + (valid ? row : 0), valid ? 4 : 0);
      int lo = 0, hi = chunk;  // offsets[lo] ≤ row < offsets[hi]
      while (hi - lo > 1) {
        const int mid = (lo + hi) / 2;
        if (sh.offsets[mid] <= row) lo = mid; else hi = mid;
      }
      sh.cluster[buf][tid] = valid ? lo : -1;
    }
  };
  if (tiles > 0) load_tile(0, 0);
  commit_async();

  for (int tile = 0; tile < tiles; ++tile) {
    const int buf = tile & 1;
    if (tile + 1 < tiles) load_tile(tile + 1, buf ^ 1);
    commit_async();
    wait_async<1>();
    __syncthreads();
    if (warp == 0) {  // the tile's runs, for the walk below (read after the next barrier)
      const int* cluster = sh.cluster[buf];
      const int k0 = lane, k1 = lane + 32;
      const bool start0 = cluster[k0] >= 0 && (k0 == 0 || cluster[k0] != cluster[k0 - 1]);
      const bool start1 = cluster[k1] >= 0 && cluster[k1] != cluster[k1 - 1];
      const unsigned starts0 = __ballot_sync(0xffffffffu, start0), starts1 = __ballot_sync(0xffffffffu, start1);
      const unsigned below = (1u << lane) - 1u;
      if (start0) sh.run_start[buf][__popc(starts0 & below)] = k0;
      if (start1) sh.run_start[buf][__popc(starts0) + __popc(starts1 & below)] = k1;
      const int in_range = __popc(__ballot_sync(0xffffffffu, cluster[k0] >= 0)) +
                           __popc(__ballot_sync(0xffffffffu, cluster[k1] >= 0));
      const int runs = __popc(starts0) + __popc(starts1);
      if (lane == 0) {
        sh.runs[buf] = runs;
        sh.run_start[buf][runs] = in_range;
      }
    }
    if (mma_rows_valid) {
      // The halves one after the other (not unrolled), so one half's accumulators are live at a time.
#pragma unroll 1
      for (int key_half = 0; key_half < kTileKeys / kWarpKeys; ++key_half) {
        float s[kWarpKeys / 8][4];
        for (int nt = 0; nt < kWarpKeys / 8; ++nt)
          for (int e = 0; e < 4; ++e) s[nt][e] = 0.0f;
        const T* kbuf = sh.k[buf] + key_half * kWarpKeys * kStride;
        for (int kt = 0; kt < kKTiles; ++kt) {
          for (int nt2 = 0; nt2 < kWarpKeys / 16; ++nt2) {
            uint32_t b[4];
            ldmatrix_x4(b, kbuf + (nt2 * 16 + (lane % 8) + (lane / 16) * 8) * kStride + kt * 16 + ((lane / 8) % 2) * 8);
            Element<T>::mma(s[2 * nt2], hi_frag[kt], b[0], b[1]);
            Element<T>::mma(s[2 * nt2 + 1], hi_frag[kt], b[2], b[3]);
            Element<T>::mma(s[2 * nt2], lo_frag[kt], b[0], b[1]);
            Element<T>::mma(s[2 * nt2 + 1], lo_frag[kt], b[2], b[3]);
          }
        }
        for (int nt = 0; nt < kWarpKeys / 8; ++nt)
          for (int e = 0; e < 4; ++e) {
            const int row = warp * 16 + lane / 4 + 8 * (e / 2);
            const int key = key_half * kWarpKeys + nt * 8 + 2 * (lane % 4) + (e % 2);
            sh.z[row * kZStride + key] = s[nt][e] * a.scale;
          }
      }
    }
    __syncthreads();

    // The walk: item = (run, 32 rows), a lane per row; warps take items round robin.
    const int runs = sh.runs[buf];
    for (int item = warp; item < runs * item_groups; item += kWarps) {
      const int run = item / item_groups;
      const int row = (item % item_groups) * kItemRows + lane;
      if (i0 + row >= qc) continue;
      const int begin = sh.run_start[buf][run], end = sh.run_start[buf][run + 1];
      const int c = sh.cluster[buf][begin];
      const float* z = sh.z + row * kZStride;
      float m = -CUDART_INF_F;
      for (int k = begin; k < end; ++k) m = fmaxf(m, z[k]);
      float s2 = 0.0f, s1 = 0.0f;
      for (int k = begin; k < end; ++k) {
        const float w = __expf(z[k] - m);
        s2 += w * w * sh.value_norm[buf][k];
        s1 += w * sh.value_dot[buf][k];
      }
      BlockSums state{sh.state_m[row][c], sh.state_s2[row][c], sh.state_s1[row][c]};
      state.merge(m, s2, s1);
      sh.state_m[row][c] = state.m;
      sh.state_s2[row][c] = state.s2;
      sh.state_s1[row][c] = state.s1;
    }
    __syncthreads();
  }
  wait_async<0>();

  for (int t = tid; t < kTileRows * kChunkClusters; t += kThreads) {
    const int row = t / kChunkClusters, c = t % kChunkClusters;
    if (i0 + row >= qc || c >= chunk) continue;
    const int64_t out = (head * qc + i0 + row) * kc + j0 + c;
    const int n = sh.offsets[c + 1] - sh.offsets[c];
    if (n == 0) {  // an empty key cluster: skipping it costs nothing
      a.log_error[out] = -CUDART_INF_F;
      a.score[out] = -CUDART_INF_F;
      continue;
    }
    const float m = sh.state_m[row][c];
    const float weight = __expf(a.logits[out] - m);
    const float mean_term = mean_terms[head * kc + j0 + c];
    // One key: v̄ is its value, so the error is (a − c)²·||v̄||² with a = S1 / ||v̄||², taken as a
    // difference (the reference's comment says why).
    const float token_weight = mean_term > 0.0f ? sh.state_s1[row][c] / mean_term : weight;
    const float rescaled = n == 1 ? (token_weight - weight) * (token_weight - weight) * mean_term
                                  : sh.state_s2[row][c] - 2.0f * weight * sh.state_s1[row][c] + weight * weight * mean_term;
    const float log_error = __logf(fmaxf(rescaled, kEps)) + 2.0f * m;
    const float area = float(a.q_sizes[head * qc + i0 + row]) * float(n);
    a.log_error[out] = log_error;
    a.score[out] = log_error - a.gamma * __logf(fmaxf(area, kEps));
  }
}

template <typename T, int D>
void run_value_gather(const ErrorProbeCudaArgs& a, cudaStream_t stream) {
  Workspace w = carve(a.workspace, a.bh, a.tokens, a.k_clusters);
  const int64_t count = a.bh * a.k_clusters;
  // Five blocks' stashes (160 KB at d = 128) need the shared-memory carveout, not L1's.
  cudaFuncSetAttribute(value_gather_kernel<T, D>, cudaFuncAttributePreferredSharedMemoryCarveout,
                       cudaSharedmemCarveoutMaxShared);
  value_gather_kernel<T, D><<<unsigned((count + kGatherThreads / 32 - 1) / (kGatherThreads / 32)), kGatherThreads, 0,
                              stream>>>(static_cast<const T*>(a.v), a.k_order, a.k_offsets, static_cast<T*>(a.vp),
                                        a.v_means, w.value_norms, w.value_dots, w.mean_terms, a.tokens, a.v_head,
                                        a.v_row, a.k_clusters, count);
}

template <typename T, int D>
void run_probe(const ErrorProbeCudaArgs& a, cudaStream_t stream) {
  Workspace w = carve(a.workspace, a.bh, a.tokens, a.k_clusters);
  const int smem = int(sizeof(ProbeShared<T, D>));
  auto kernel = probe_kernel<T, D>;
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  const dim3 grid(unsigned((a.k_clusters + kChunkClusters - 1) / kChunkClusters),
                  unsigned((a.q_clusters + kTileRows - 1) / kTileRows), unsigned(a.bh));
  kernel<<<grid, kThreads, smem, stream>>>(a, w.value_norms, w.value_dots, w.mean_terms);
}

}  // namespace

bool error_probe_cuda_supports(int64_t head_dim, int64_t tokens, int64_t q_clusters) {
  return (head_dim == 64 || head_dim == 128) && tokens < (int64_t(1) << 30) &&
         q_clusters <= int64_t(65535) * kTileRows;  // the probe's grid y
}

int64_t error_probe_cuda_workspace_bytes(int64_t bh, int64_t tokens, int64_t k_clusters) {
  return carve(nullptr, bh, tokens, k_clusters).total_bytes;
}

void launch_value_gather(const ErrorProbeCudaArgs& a, cudaStream_t stream) {
  if (a.bh == 0 || a.k_clusters == 0) return;
  dispatch_half_head_dim(a.element, a.head_dim, [&](auto element, auto dim) {
    run_value_gather<decltype(element), decltype(dim)::value>(a, stream);
  });
}

void launch_error_probe(const ErrorProbeCudaArgs& a, cudaStream_t stream) {
  if (a.bh == 0 || a.q_clusters == 0 || a.k_clusters == 0) return;
  dispatch_half_head_dim(a.element, a.head_dim, [&](auto element, auto dim) {
    run_probe<decltype(element), decltype(dim)::value>(a, stream);
  });
}

}  // namespace svgear
