#include "kernels/block_sparse_attention/block_sparse_attention_cuda.cuh"

#include <atomic>

#include "kernels/block_sparse_attention/attention_tile.cuh"
#include "kernels/common/half_precision_dispatch.cuh"
#include "kernels/common/mma_sm80.cuh"

namespace svgear {
namespace {

using namespace mma_sm80;

// Layout and tiling (a FlashAttention-2 style kernel for sm_80+, mma.sync m16n8k16). Query tiles
// and the key stream: attention_tile.cuh.
//
// * The key stream is consumed in tiles of kTileKeys, double-buffered with cp.async.
// * 4 warps, each owns 16 query rows; scores S = Q·Kᵀ and the output accumulator live in registers
//   in the mma accumulator layout; P is re-packed in registers as the A operand of P·V.
// * Shared-memory rows are padded by 8 elements (16 bytes) so the 8 row addresses of an ldmatrix
//   phase fall into different banks.
using block_sparse::kTileKeys;
using block_sparse::kTileRows;
constexpr int kWarps = 4;
static_assert(kWarps <= block_sparse::kMaxStreamWarps, "build_key_stream's per-warp counts");
constexpr int kThreads = kWarps * 32;
constexpr int kRowPad = 8;
static_assert(block_sparse::QueryTiles::bounds(kTileRows, 0), "QueryTiles::max_tiles bounds its tiles");

// The list of query tiles (query_tiles.cuh): each query cluster's tiles of tile_rows rows, a last
// one of at most tail_rows apart (0: none). One warp per head scans 32 clusters at a time: a warp
// prefix sum of their tile counts and a ballot of their tails place each cluster's records after
// the clusters before it.
__global__ void query_tiles_kernel(const BlockSparseAttentionArgs a, int tile_rows, int tail_rows) {
  const block_sparse::QueryTiles list(a.workspace, a.bh, a.q_rows, a.q_clusters);
  const int64_t head = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (head >= a.bh) return;
  const int64_t qc = a.q_clusters;
  const int64_t* q_off = a.q_offsets + head * (qc + 1);
  block_sparse::TileRecord* tiles = list.tiles + head * list.tiles_per_head;
  block_sparse::TileRecord* tails = list.tails + head * qc;
  const unsigned lanes_below = (1u << lane) - 1u;
  int32_t tiles_before = 0, tails_before = 0;  // of the clusters before this round
  for (int64_t c0 = 0; c0 < qc; c0 += 32) {
    const int64_t c = c0 + lane;
    const int32_t begin = c < qc ? int32_t(q_off[c]) : 0, rows = c < qc ? int32_t(q_off[c + 1]) - begin : 0;
    const int32_t count = int32_t((int64_t(rows) + tile_rows - 1 - tail_rows) / tile_rows);
    const int32_t rest = rows % tile_rows;
    const bool tail = tail_rows > 0 && rest > 0 && rest <= tail_rows;
    int32_t inclusive = count;
    for (int delta = 1; delta < 32; delta *= 2) {
      const int32_t below = __shfl_up_sync(0xffffffffu, inclusive, delta);
      if (lane >= delta) inclusive += below;
    }
    const unsigned tail_bits = __ballot_sync(0xffffffffu, tail);
    const int32_t first = tiles_before + inclusive - count;
    for (int32_t i = 0; i < count; ++i) {
      const int32_t left = rows - i * tile_rows;
      tiles[first + i] = {int32_t(c), begin + i * tile_rows, left < tile_rows ? left : tile_rows, 0};
    }
    if (tail) tails[tails_before + __popc(tail_bits & lanes_below)] = {int32_t(c), begin + rows - rest, rest, 0};
    tiles_before += __shfl_sync(0xffffffffu, inclusive, 31);
    tails_before += __popc(tail_bits);
  }
  if (lane == 0) {
    list.tile_count[head] = tiles_before;
    list.tail_count[head] = tails_before;
  }
}

template <typename T, int D>
struct SharedLayout {
  static constexpr int kStride = D + kRowPad;  // elements per padded row
  static constexpr int kQBytes = kTileRows * kStride * int(sizeof(T));
  static constexpr int kKvTileBytes = kTileKeys * kStride * int(sizeof(T));
  static constexpr int kBiasBytes = 2 * kTileKeys * int(sizeof(float));
  // q tile, 2 K tiles, 2 V tiles, 2 bias rows, then the cluster lists
  static constexpr int kFixedBytes = kQBytes + 4 * kKvTileBytes + kBiasBytes;
  static int bytes(int64_t k_clusters) { return kFixedBytes + block_sparse::key_list_bytes(k_clusters); }
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

  const int64_t head = blockIdx.y;
  block_sparse::QueryTile tile;
  if (!block_sparse::listed_tile(a, head, blockIdx.x, false, tile)) return;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const T* qp = static_cast<const T*>(a.qp) + head * a.q_rows * D;

  // Q tile → shared (rows past the cluster's end are zeros).
  for (int i = tid; i < kTileRows * kVectorsPerRow; i += kThreads) {
    const int r = i / kVectorsPerRow, vec = i % kVectorsPerRow;
    const bool valid = r < tile.rows;
    copy16_async(q_s + r * kStride + vec * 8, qp + (tile.begin + (valid ? r : 0)) * D + vec * 8, valid ? 16 : 0);
  }
  commit_async();

  const block_sparse::KeyStream<T> stream =
      block_sparse::build_key_stream<T, D>(a, head, tile.cluster, reinterpret_cast<int*>(smem + L::kFixedBytes));
  const int routed_keys = stream.routed_keys;
  const int key_tiles = (stream.stream_keys + kTileKeys - 1) / kTileKeys;

  // Loader: thread tid copies chunks tid, tid + kThreads, ... of the 64-key tile.
  int cursor = 0;
  auto load_tile = [&](int key_tile, int buf) {
    T* kdst = k_s + buf * kTileKeys * kStride;
    T* vdst = v_s + buf * kTileKeys * kStride;
    for (int i = tid; i < kTileKeys * kVectorsPerRow; i += kThreads) {
      const int r = i / kVectorsPerRow, vec = i % kVectorsPerRow;
      const auto source = stream.resolve(key_tile * kTileKeys + r, cursor);
      copy16_async(kdst + r * kStride + vec * 8, source.k + vec * 8);
      copy16_async(vdst + r * kStride + vec * 8, source.v + vec * 8);
      if (vec == 0) bias_s[buf * kTileKeys + r] = source.bias;
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

  block_sparse::OnlineSoftmax softmax{a.scale * 1.4426950408889634f};  // exp(x) = exp2(x·log2 e)
  float acc[kDimTiles][4];
  for (int dt = 0; dt < kDimTiles; ++dt)
    for (int e = 0; e < 4; ++e) acc[dt][e] = 0.0f;

  for (int kt_tile = 0; kt_tile < key_tiles; ++kt_tile) {
    const int buf = kt_tile & 1;
    if (kt_tile + 1 < key_tiles) load_tile(kt_tile + 1, buf ^ 1);
    commit_async();
    wait_async<1>();
    __syncthreads();

    const T* kbuf = k_s + buf * kTileKeys * kStride;
    const T* vbuf = v_s + buf * kTileKeys * kStride;

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

    float rescale[2];
    const bool plain = (kt_tile + 1) * kTileKeys <= routed_keys;
    const auto bias = [&](int column) { return bias_s[buf * kTileKeys + column]; };
    if (softmax.step(s, plain, bias, rescale)) block_sparse::OnlineSoftmax::rescale_rows(acc, rescale);

    // O += P·V; V comes transposed by ldmatrix.trans (lanes: keys +0-7 / +8-15 by (lane/8)%2,
    // d +0 / +8 by lane/16).
    for (int kk = 0; kk < kTileKeys / 16; ++kk) {
      uint32_t p_frag[4];
      block_sparse::pack_weights<T>(s, kk, p_frag);
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
  block_sparse::write_tile_output<T, D>(a, head, tile, acc, softmax);
}

// The current device's opt-in limit of shared memory per block, cached per device.
int shared_memory_limit() {
  static std::atomic<int> cached[64];
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= 64) return 0;
  int bytes = cached[device].load(std::memory_order_relaxed);
  if (bytes == 0) {
    if (cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) != cudaSuccess) {
      cudaGetLastError();  // not left for the next launch check to report
      return 0;
    }
    cached[device].store(bytes, std::memory_order_relaxed);
  }
  return bytes;
}

template <typename T, int D>
void launch_typed(const BlockSparseAttentionArgs& a, cudaStream_t stream) {
  const int smem = SharedLayout<T, D>::bytes(a.k_clusters);
  auto kernel = block_sparse_attention_kernel<T, D>;
  // The device's whole opt-in limit, not this call's size: the same value from every host thread, so
  // one thread's smaller setting can never land between another's setting and launch.
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                       shared_memory_limit() - block_sparse::kStreamStaticBytes);
  const int64_t tiles = block_sparse::QueryTiles::max_tiles(a.q_rows, a.q_clusters, kTileRows);
  if (tiles > 0) kernel<<<dim3(unsigned(tiles), unsigned(a.bh)), kThreads, smem, stream>>>(a);
}

bool uses_wgmma(const BlockSparseAttentionArgs& a) { return a.allow_wgmma && block_sparse_attention_sm90_runs_here(); }

}  // namespace

bool block_sparse_attention_cuda_supports(int64_t head_dim, int64_t k_clusters) {
  if (!((head_dim == 64 || head_dim == 128) && k_clusters >= 1 && k_clusters <= block_sparse::kMaxKeyClusters)) {
    return false;
  }
  // The wgmma kernel fits every cluster count (Sm90Layout's static_assert), and Hopper's 227 KB hold
  // the mma.sync kernel's too. Elsewhere the mma.sync kernel's cluster lists can outgrow the device:
  // at d = 128 it needs 185,860 B at Kc = 8192, past an A100's 163 KB from about Kc = 6600 on.
  if (block_sparse_attention_sm90_runs_here()) return true;
  const int bytes = head_dim == 64 ? SharedLayout<__nv_bfloat16, 64>::bytes(k_clusters)
                                   : SharedLayout<__nv_bfloat16, 128>::bytes(k_clusters);
  return bytes + block_sparse::kStreamStaticBytes <= shared_memory_limit();  // build_key_stream's static part
}

int64_t block_sparse_attention_workspace_bytes(int64_t bh, int64_t q_rows, int64_t q_clusters) {
  return block_sparse::QueryTiles::bytes(bh, q_rows, q_clusters);
}

bool block_sparse_attention_launches_tails(const BlockSparseAttentionArgs& a) {
  return a.bh > 0 && a.q_rows > 0 && a.q_clusters > 0 && uses_wgmma(a);
}

void launch_query_tiles(const BlockSparseAttentionArgs& a, int tile_rows, int tail_rows, cudaStream_t stream) {
  constexpr int kListThreads = 128;
  static_assert(kListThreads % 32 == 0, "query_tiles_kernel: one whole warp per head");
  constexpr int kHeadsPerBlock = kListThreads / 32;
  query_tiles_kernel<<<unsigned((a.bh + kHeadsPerBlock - 1) / kHeadsPerBlock), kListThreads, 0, stream>>>(
      a, tile_rows, tail_rows);
}

void launch_block_sparse_attention_tiles(const BlockSparseAttentionArgs& a, cudaStream_t stream) {
  if (a.bh == 0 || a.q_rows == 0) return;
  const bool wgmma = uses_wgmma(a);
  launch_query_tiles(a, wgmma ? block_sparse_attention_sm90_tile_rows : kTileRows,
                     wgmma ? block_sparse_attention_sm90_tail_rows : 0, stream);
}

void launch_block_sparse_attention(const BlockSparseAttentionArgs& a, cudaStream_t stream, cudaStream_t tail_stream) {
  if (a.bh == 0 || a.q_rows == 0) return;
  if (uses_wgmma(a)) {
    launch_block_sparse_attention_sm90(a, stream, tail_stream);
    return;
  }
  dispatch_half_head_dim(a.element, a.head_dim, [&](auto element, auto dim) {
    launch_typed<decltype(element), decltype(dim)::value>(a, stream);
  });
}

}  // namespace svgear
