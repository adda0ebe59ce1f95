#include "kernels/error_probe/error_probe_cuda.cuh"

#include <math_constants.h>

#include "kernels/common/mma_sm80.cuh"
#include "kernels/common/workspace_carver.h"

namespace svgear {
namespace {

using namespace mma_sm80;

// The probe (spec §3.3, error_probe.h) for every (query centroid i, key cluster j):
//   m = max(ℓ_ij, max_t z_t),  z_t = s·q̄_i·k_t over the keys t of cluster j,
//   S2 = Σ e^{2(z_t − m)}·||v_t||²,  S1 = Σ e^{z_t − m}·⟨v̄_j, v_t⟩,  c = e^{ℓ_ij − m},
//   log ε̂² = log(max(S2 − 2c·S1 + c²·n_j·||v̄_j||², eps)) + 2m,  score = log ε̂² − γ·log(max(m_i·n_j, eps)).
//
// 1. value_stats: one warp per key cluster writes ||v_t||² and ⟨v̄_j, v_t⟩ for its tokens and
//    n_j·||v̄_j||² for itself.
// 2. probe: a CTA takes kTileRows query centroids and kChunkClusters consecutive key clusters, i.e.
//    one contiguous range of permuted keys, streamed in tiles of kTileKeys (cp.async, double
//    buffered). Tensor cores compute z for the tile (q̄ split into two 16-bit terms, hi + lo, so z
//    keeps ~16 significant bits rather than the 8 of a bf16 q̄); z goes to shared memory, and one
//    thread per query centroid walks the tile's keys in order with the online (m, S2, S1) of its
//    current cluster, finishing a cluster when the walk leaves it. The N × Qc logits never reach
//    global memory.
constexpr int kTileRows = 64;
constexpr int kTileKeys = 64;
constexpr int kChunkClusters = 32;
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kRowPad = 8;
constexpr float kEps = 1e-8f;  // spec §3.3: floor of the cancelled error and of the block area

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

template <typename T>
__global__ void value_stats_kernel(const T* __restrict__ vp, const float* __restrict__ v_means,
                                   const int64_t* __restrict__ k_offsets, float* __restrict__ value_norms,
                                   float* __restrict__ value_dots, float* __restrict__ mean_terms, int64_t tokens,
                                   int64_t k_clusters, int64_t count, int head_dim) {
  const int64_t g = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32;  // head · Kc + j
  const int lane = threadIdx.x % 32;
  if (g >= count) return;
  const int64_t head = g / k_clusters, j = g % k_clusters;
  const int64_t begin = k_offsets[head * (k_clusters + 1) + j], end = k_offsets[head * (k_clusters + 1) + j + 1];
  const float* mean = v_means + g * head_dim;
  float mean_norm = 0.0f;
  for (int e = lane; e < head_dim; e += 32) mean_norm += mean[e] * mean[e];
  for (int delta = 16; delta > 0; delta /= 2) mean_norm += __shfl_xor_sync(0xffffffffu, mean_norm, delta);
  if (lane == 0) mean_terms[g] = float(end - begin) * mean_norm;
  for (int64_t t = begin; t < end; ++t) {
    const T* v = vp + (head * tokens + t) * head_dim;
    float norm = 0.0f, dot = 0.0f;
    for (int e = lane; e < head_dim; e += 32) {
      const float x = float(v[e]);
      norm += x * x;
      dot += x * mean[e];
    }
    for (int delta = 16; delta > 0; delta /= 2) {
      norm += __shfl_xor_sync(0xffffffffu, norm, delta);
      dot += __shfl_xor_sync(0xffffffffu, dot, delta);
    }
    if (lane == 0) {
      value_norms[head * tokens + t] = norm;
      value_dots[head * tokens + t] = dot;
    }
  }
}

template <typename T, int D>
struct ProbeShared {
  static constexpr int kStride = D + kRowPad;
  // q̄'s tiles are read into registers once, before the first key tile lands in the same bytes:
  // 35 KB less per CTA, 3 CTAs per SM instead of 2 (more walkers in flight).
  union {
    struct {
      T hi[kTileRows * kStride];
      T lo[kTileRows * kStride];
    } q;
    T k[2][kTileKeys * kStride];
  };
  float z[kTileRows][kTileKeys + 1];  // +1: the walkers read rows, one per thread, without conflicts
  float value_norm[2][kTileKeys];
  float value_dot[2][kTileKeys];
  float logits[kTileRows][kChunkClusters];
  int offsets[kChunkClusters + 1];  // the chunk clusters' boundaries, in permuted key rows
};

template <typename T, int D>
__global__ void __launch_bounds__(kThreads, 3) probe_kernel(const ErrorProbeCudaArgs a,
                                                         const float* __restrict__ value_norms,
                                                         const float* __restrict__ value_dots,
                                                         const float* __restrict__ mean_terms) {
  using Shared = ProbeShared<T, D>;
  constexpr int kStride = Shared::kStride;
  constexpr int kVectorsPerRow = D * int(sizeof(T)) / 16;
  constexpr int kKTiles = D / 16;
  constexpr int kKeyTiles = kTileKeys / 8;
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
  for (int t = tid; t < kTileRows * kChunkClusters; t += kThreads) {
    const int r = t / kChunkClusters, c = t % kChunkClusters;
    const bool valid = i0 + r < qc && c < chunk;
    sh.logits[r][c] = valid ? a.logits[(head * qc + i0 + r) * kc + j0 + c] : 0.0f;
  }
  {
    const T* q_hi = static_cast<const T*>(a.q_hi) + head * qc * D;
    const T* q_lo = static_cast<const T*>(a.q_lo) + head * qc * D;
    for (int t = tid; t < kTileRows * kVectorsPerRow; t += kThreads) {
      const int r = t / kVectorsPerRow, vec = t % kVectorsPerRow;
      const bool valid = i0 + r < qc;
      const int64_t src = (valid ? i0 + r : 0) * D + vec * 8;
      copy16_async(sh.q.hi + r * kStride + vec * 8, q_hi + src, valid ? 16 : 0);
      copy16_async(sh.q.lo + r * kStride + vec * 8, q_lo + src, valid ? 16 : 0);
    }
  }
  commit_async();
  wait_async<0>();
  __syncthreads();  // offsets, logits, q̄ tiles
  uint32_t hi_frag[kKTiles][4], lo_frag[kKTiles][4];
  {
    const int offset = (warp * 16 + (lane % 16)) * kStride + (lane / 16) * 8;
    for (int kt = 0; kt < kKTiles; ++kt) {
      ldmatrix_x4(hi_frag[kt], sh.q.hi + offset + kt * 16);
      ldmatrix_x4(lo_frag[kt], sh.q.lo + offset + kt * 16);
    }
  }
  __syncthreads();  // the key tiles overwrite q̄'s
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
      const bool valid = base + tid < key_end;
      sh.value_norm[buf][tid] = valid ? vn[base + tid] : 0.0f;
      sh.value_dot[buf][tid] = valid ? vd[base + tid] : 0.0f;
    }
  };
  if (tiles > 0) load_tile(0, 0);
  commit_async();

  // Walker state: thread r < kTileRows owns query centroid i0 + r.
  const int r = tid;
  const bool walker = r < kTileRows && i0 + r < qc;
  const float q_size = walker ? float(a.q_sizes[head * qc + i0 + r]) : 0.0f;
  int current = -1;  // chunk-relative cluster being accumulated
  float m = 0.0f, s2 = 0.0f, s1 = 0.0f;
  auto finish = [&](int c) {
    const float ell = sh.logits[r][c];
    const float weight = __expf(ell - m);
    const float rescaled = s2 - 2.0f * weight * s1 + weight * weight * mean_terms[head * kc + j0 + c];
    const float log_error = __logf(fmaxf(rescaled, kEps)) + 2.0f * m;
    const float area = q_size * float(sh.offsets[c + 1] - sh.offsets[c]);
    const int64_t out = (head * qc + i0 + r) * kc + j0 + c;
    a.log_error[out] = log_error;
    a.score[out] = log_error - a.gamma * __logf(fmaxf(area, kEps));
  };

  for (int tile = 0; tile < tiles; ++tile) {
    const int buf = tile & 1;
    if (tile + 1 < tiles) load_tile(tile + 1, buf ^ 1);
    commit_async();
    wait_async<1>();
    __syncthreads();
    float s[kKeyTiles][4];
    for (int nt = 0; nt < kKeyTiles; ++nt)
      for (int e = 0; e < 4; ++e) s[nt][e] = 0.0f;
    const T* kbuf = sh.k[buf];
    for (int kt = 0; kt < kKTiles; ++kt) {
      for (int nt2 = 0; nt2 < kKeyTiles / 2; ++nt2) {
        uint32_t b[4];
        ldmatrix_x4(b, kbuf + (nt2 * 16 + (lane % 8) + (lane / 16) * 8) * kStride + kt * 16 + ((lane / 8) % 2) * 8);
        Element<T>::mma(s[2 * nt2], hi_frag[kt], b[0], b[1]);
        Element<T>::mma(s[2 * nt2 + 1], hi_frag[kt], b[2], b[3]);
        Element<T>::mma(s[2 * nt2], lo_frag[kt], b[0], b[1]);
        Element<T>::mma(s[2 * nt2 + 1], lo_frag[kt], b[2], b[3]);
      }
    }
    for (int nt = 0; nt < kKeyTiles; ++nt)
      for (int e = 0; e < 4; ++e)
        sh.z[warp * 16 + lane / 4 + 8 * (e / 2)][nt * 8 + 2 * (lane % 4) + (e % 2)] = s[nt][e] * a.scale;
    __syncthreads();
    if (walker) {
      const int base = key_begin + tile * kTileKeys;
      const int valid = key_end - base < kTileKeys ? key_end - base : kTileKeys;
      for (int col = 0; col < valid; ++col) {
        const int row = base + col;
        if (current < 0 || row >= sh.offsets[current + 1]) {
          if (current >= 0) finish(current);
          current = current < 0 ? 0 : current + 1;
          while (sh.offsets[current + 1] <= row) ++current;  // empty clusters are written below
          m = sh.logits[r][current];
          s2 = 0.0f;
          s1 = 0.0f;
        }
        const float z = sh.z[r][col];
        if (z > m) {
          const float shrink = __expf(m - z);
          s2 *= shrink * shrink;
          s1 *= shrink;
          m = z;
        }
        const float w = __expf(z - m);
        s2 += w * w * sh.value_norm[buf][col];
        s1 += w * sh.value_dot[buf][col];
      }
    }
    __syncthreads();
  }
  wait_async<0>();
  if (walker) {
    if (current >= 0) finish(current);
    // Empty key clusters: skipping them costs nothing.
    for (int c = 0; c < chunk; ++c) {
      if (sh.offsets[c + 1] != sh.offsets[c]) continue;
      const int64_t out = (head * qc + i0 + r) * kc + j0 + c;
      a.log_error[out] = -CUDART_INF_F;
      a.score[out] = -CUDART_INF_F;
    }
  }
}

template <typename T, int D>
void run_typed(const ErrorProbeCudaArgs& a, cudaStream_t stream) {
  Workspace w = carve(a.workspace, a.bh, a.tokens, a.k_clusters);
  const int64_t count = a.bh * a.k_clusters;
  constexpr int kWarpsPerBlock = kThreads / 32;
  value_stats_kernel<T><<<unsigned((count + kWarpsPerBlock - 1) / kWarpsPerBlock), kThreads, 0, stream>>>(
      static_cast<const T*>(a.vp), a.v_means, a.k_offsets, w.value_norms, w.value_dots, w.mean_terms, a.tokens,
      a.k_clusters, count, D);
  const int smem = int(sizeof(ProbeShared<T, D>));
  auto kernel = probe_kernel<T, D>;
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  const dim3 grid(unsigned((a.k_clusters + kChunkClusters - 1) / kChunkClusters),
                  unsigned((a.q_clusters + kTileRows - 1) / kTileRows), unsigned(a.bh));
  kernel<<<grid, kThreads, smem, stream>>>(a, w.value_norms, w.value_dots, w.mean_terms);
}

}  // namespace

bool error_probe_cuda_supports(int64_t head_dim, int64_t tokens) {
  return (head_dim == 64 || head_dim == 128) && tokens < (int64_t(1) << 30);
}

int64_t error_probe_cuda_workspace_bytes(int64_t bh, int64_t tokens, int64_t k_clusters) {
  return carve(nullptr, bh, tokens, k_clusters).total_bytes;
}

void launch_error_probe(const ErrorProbeCudaArgs& a, cudaStream_t stream) {
  if (a.bh == 0 || a.q_clusters == 0) return;
  const bool bf16 = a.element == HalfPrecision::BFloat16;
  if (a.head_dim == 64) {
    bf16 ? run_typed<__nv_bfloat16, 64>(a, stream) : run_typed<__half, 64>(a, stream);
  } else {
    bf16 ? run_typed<__nv_bfloat16, 128>(a, stream) : run_typed<__half, 128>(a, stream);
  }
}

}  // namespace svgear
