#include "kernels/block_sparse_attention/block_sparse_attention_cuda.cuh"

#include <atomic>

#include "kernels/block_sparse_attention/attention_tile.cuh"
#include "kernels/common/mma_sm80.cuh"
#include "kernels/common/wgmma_sm90.cuh"

namespace svgear {
namespace {

using block_sparse::kTileKeys;
using block_sparse::kTileRows;
using namespace mma_sm80;
namespace wg = wgmma_sm90;

// Block-sparse attention on Hopper tensor cores (wgmma, sm_90a). Query tiles, the key stream, the
// softmax and the output write are the sm_80 kernel's (attention_tile.cuh); what differs:
//
// * A CTA is one warpgroup (4 warps = 128 threads) and one 64-row query tile: wgmma's m64 is exactly
//   the tile, so clusters keep their 64-row tiles. Q stays in registers as the A operand of every
//   Q·Kᵀ (loaded once by ldmatrix); P becomes the A operand of P·V in registers. Only K and V are
//   read from shared memory, by the tensor core itself: 64 B per clock at full rate, half the
//   shared-memory bandwidth, where mma.sync's ldmatrix loads capped the sm_80 kernel.
// * K and V tiles (64 keys) are double-buffered, filled by cp.async into the 128-byte swizzle that
//   wgmma reads (wgmma_sm90.cuh); the keys are gathered row by row from the routed ranges, which a
//   tensor-map copy (TMA) cannot express. Where each key row comes from is worked out once per tile
//   by 64 threads into a row table (three in rotation: tile j's serves its K loads, its V loads an
//   iteration later, and its softmax bias), so the loaders only read the table.
// * Per key tile j: issue S_j = Q·K_jᵀ, then O += P_{j−1}·V_{j−1}; while the tensor core works,
//   resolve tile j+2's rows and issue the loads of tile j+1's K and tile j's V; then the softmax of
//   S_j runs while P·V still does (FlashAttention-3's intra-warpgroup overlap).
// * 2 CTAs per SM (94.5 KB of shared memory at d = 128, Kc = 1000): while one warpgroup is in its
//   softmax, the other's products keep the tensor core busy.
constexpr int kThreads = 128;

// Dynamic shared memory, from a 1024-byte-aligned base: K tiles [2], V tiles [2] (swizzled, each
// D/64 column blocks of kTileKeys × 128 bytes), the Q staging tile (rows padded by 8 elements for
// conflict-free ldmatrix), the row tables [3] (per key row: its K and V source and its bias), then
// the cluster lists.
constexpr int kRowTables = 3;

template <typename T>
struct RowTable {
  const T* k[kTileKeys];
  const T* v[kTileKeys];
  float bias[kTileKeys];
};
template <typename T, int D>
struct Sm90Layout {
  static constexpr int kTileBytes = kTileKeys * D * int(sizeof(T));  // a multiple of 1024
  static constexpr int kQStride = D + 8;
  static constexpr int kKeys = 0;
  static constexpr int kValues = 2 * kTileBytes;
  static constexpr int kQuery = 4 * kTileBytes;
  static constexpr int kTables = kQuery + kTileRows * kQStride * int(sizeof(T));
  static constexpr int kLists = kTables + kRowTables * int(sizeof(RowTable<T>));
  static constexpr int kAlignment = wg::kSwizzleGroupBytes;
  static_assert(kKeys % kAlignment == 0 && kValues % kAlignment == 0 && kTileBytes % kAlignment == 0,
                "swizzled tiles start on the swizzle period");
  static int bytes(int64_t k_clusters) { return kLists + block_sparse::key_list_bytes(k_clusters) + kAlignment; }
};

template <typename T, int D>
__global__ void __launch_bounds__(kThreads, 2) block_sparse_attention_sm90_kernel(const BlockSparseAttentionArgs a) {
#if SVGEAR_WGMMA_AVAILABLE
  using L = Sm90Layout<T, D>;
  constexpr int kChunksPerRow = D / 8;         // 16-byte chunks per row
  constexpr int kKSteps = D / 16;              // k-steps of Q·Kᵀ
  constexpr int kKeyTiles = kTileKeys / 8;     // 8-column tiles of S
  constexpr int kDimTiles = D / 8;             // 8-column tiles of O
  constexpr int kValueSteps = kTileKeys / 16;  // k-steps of P·V

  extern __shared__ unsigned char smem_raw[];
  const uint32_t raw_address = static_cast<uint32_t>(__cvta_generic_to_shared(smem_raw));
  unsigned char* smem = smem_raw + (L::kAlignment - raw_address % L::kAlignment) % L::kAlignment;
  T* q_s = reinterpret_cast<T*>(smem + L::kQuery);
  RowTable<T>* tables = reinterpret_cast<RowTable<T>*>(smem + L::kTables);

  const int64_t head = blockIdx.y;
  block_sparse::QueryTile tile;
  if (!block_sparse::locate_query_tile(a, head, blockIdx.x, tile)) return;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const T* qp = static_cast<const T*>(a.qp) + head * a.q_rows * D;

  for (int i = tid; i < kTileRows * kChunksPerRow; i += kThreads) {
    const int r = i / kChunksPerRow, c = i % kChunksPerRow;
    const bool valid = r < tile.rows;
    copy16_async(q_s + r * L::kQStride + c * 8, qp + (tile.begin + (valid ? r : 0)) * D + c * 8, valid ? 16 : 0);
  }
  commit_async();

  const block_sparse::KeyStream<T> stream =
      block_sparse::build_key_stream<T, D>(a, head, tile.cluster, reinterpret_cast<int*>(smem + L::kLists));
  const int key_tiles = (stream.stream_keys + kTileKeys - 1) / kTileKeys;

  // Threads 0..63 resolve row `tid` of every key tile (their slots only grow: one cursor each).
  int cursor = 0;
  auto resolve_rows = [&](int key_tile) {
    if (tid >= kTileKeys || key_tile >= key_tiles) return;
    const auto source = stream.resolve(key_tile * kTileKeys + tid, cursor);
    RowTable<T>& table = tables[key_tile % kRowTables];
    table.k[tid] = source.k;
    table.v[tid] = source.v;
    table.bias[tid] = source.bias;
  };
  // One warp instruction copies 512 contiguous bytes of 2 (d = 128) or 4 (d = 64) rows. A thread
  // keeps one chunk column, so its swizzled destinations differ by whole 8-row groups.
  constexpr int kRowsPerPass = kThreads / kChunksPerRow;
  static_assert(kRowsPerPass % 8 == 0, "each pass covers whole swizzle periods");
  const int load_row = tid / kChunksPerRow, load_chunk = tid % kChunksPerRow;
  const int load_offset = wg::swizzled_offset(load_row, load_chunk, kTileKeys);
  auto load_rows = [&](const T* const* rows, unsigned char* dst) {
    for (int pass = 0; pass < kTileKeys / kRowsPerPass; ++pass) {
      copy16_async(dst + load_offset + pass * kRowsPerPass * wg::kSwizzleBytes, rows[load_row + pass * kRowsPerPass] + load_chunk * 8);
    }
  };
  auto load_keys = [&](int key_tile) {
    load_rows(tables[key_tile % kRowTables].k, smem + L::kKeys + (key_tile & 1) * L::kTileBytes);
  };
  auto load_values = [&](int key_tile) {
    load_rows(tables[key_tile % kRowTables].v, smem + L::kValues + (key_tile & 1) * L::kTileBytes);
  };
  // Descriptors: K-major Kᵀ at k-step kt, MN-major V at k-step kk (wgmma_sm90.cuh). The start
  // address is the low field, so moving within shared memory adds offset / 16 to a base.
  const uint64_t keys_base = wg::descriptor(smem + L::kKeys, 16, wg::kSwizzleGroupBytes);
  const uint64_t values_base = wg::descriptor(smem + L::kValues, kTileKeys * wg::kSwizzleBytes, wg::kSwizzleGroupBytes);
  auto keys_descriptor = [&](int key_tile, int kt) {
    return keys_base + uint64_t(((key_tile & 1) * L::kTileBytes + (kt / 4) * kTileKeys * wg::kSwizzleBytes + (kt % 4) * 32) >> 4);
  };
  auto values_descriptor = [&](int key_tile, int kk) {
    return values_base + uint64_t(((key_tile & 1) * L::kTileBytes + kk * 16 * wg::kSwizzleBytes) >> 4);
  };

  resolve_rows(0);
  resolve_rows(1);
  __syncthreads();
  if (key_tiles > 0) load_keys(0);
  commit_async();
  wait_async<0>();
  __syncthreads();

  // This warp's Q rows as A fragments (ldmatrix: lanes 0-15 rows 0-15 at k, 16-31 at k + 8).
  uint32_t q_frag[kKSteps][4];
  {
    const T* base = q_s + (warp * 16 + (lane % 16)) * L::kQStride + (lane / 16) * 8;
    for (int kt = 0; kt < kKSteps; ++kt) ldmatrix_x4(q_frag[kt], base + kt * 16);
  }

  block_sparse::OnlineSoftmax softmax{a.scale * 1.4426950408889634f};  // exp(x) = exp2(x·log2 e)
  float acc[kDimTiles][4];
  for (int dt = 0; dt < kDimTiles; ++dt)
    for (int e = 0; e < 4; ++e) acc[dt][e] = 0.0f;
  uint32_t p_frag[kValueSteps][4];  // P of the previous key tile, the A operand of its P·V

  // The steps of key tile j. Iteration 0 has no P·V before it, so it is peeled off the loop: one
  // branch-free pipeline stage per iteration is what lets ptxas keep the wgmmas asynchronous.
  auto tile_landed = [&] {
    wait_async<0>();
    wg::fence_proxy_async();
    __syncthreads();
  };
  auto issue_scores = [&](int j, float (&s)[kKeyTiles][4]) {
    for (int kt = 0; kt < kKSteps; ++kt) wg::Mma<T, kTileKeys, false>::run(s, q_frag[kt], keys_descriptor(j, kt), kt > 0);
    wg::commit();
  };
  auto issue_values = [&](int j) {
    for (int kk = 0; kk < kValueSteps; ++kk) wg::Mma<T, D, true>::run(acc, p_frag[kk], values_descriptor(j, kk), true);
    wg::commit();
  };
  auto issue_loads = [&](int j) {
    resolve_rows(j + 2);
    if (j + 1 < key_tiles) load_keys(j + 1);
    load_values(j);
    commit_async();
  };
  auto weigh_scores = [&](int j, float (&s)[kKeyTiles][4], float (&rescale)[2]) {
    const bool plain = (j + 1) * kTileKeys <= stream.routed_keys;
    return softmax.step(s, plain, tables[j % kRowTables].bias, rescale);
  };

  if (key_tiles > 0) {
    tile_landed();
    float s[kKeyTiles][4];
    wg::fence();
    issue_scores(0, s);
    issue_loads(0);
    wg::wait<0>();
    wg::fence_operand(s);
    float rescale[2];
    weigh_scores(0, s, rescale);  // the output is still zero: nothing to rescale
    for (int kk = 0; kk < kValueSteps; ++kk) block_sparse::pack_weights<T>(s, kk, p_frag[kk]);
  }
  for (int j = 1; j < key_tiles; ++j) {
    // Tile j's K and tile j−1's V have landed, tile j+1's row table is written, and every warp is
    // past iteration j−1, whose products read the buffers the loads below overwrite.
    tile_landed();
    float s[kKeyTiles][4];
    wg::fence_operand(acc);
    wg::fence();
    issue_scores(j, s);
    issue_values(j - 1);
    issue_loads(j);
    wg::wait<1>();  // S_j done; P_{j−1}·V_{j−1} may still run
    wg::fence_operand(s);
    float rescale[2];
    const bool moved = weigh_scores(j, s, rescale);
    wg::fence_operand(s);  // the weights are computed before the wait, not after: the overlap
    wg::wait<0>();
    wg::fence_operand(acc);
    if (moved) block_sparse::OnlineSoftmax::rescale_rows(acc, rescale);
    for (int kk = 0; kk < kValueSteps; ++kk) block_sparse::pack_weights<T>(s, kk, p_frag[kk]);
  }
  if (key_tiles > 0) {
    tile_landed();
    wg::fence_operand(acc);
    wg::fence();
    issue_values(key_tiles - 1);
    wg::wait<0>();
    wg::fence_operand(acc);
  }
  block_sparse::write_tile_output<T, D>(a, head, tile, acc, softmax);
#endif
}

template <typename T, int D>
void launch_typed(const BlockSparseAttentionArgs& a, cudaStream_t stream) {
  const int smem = Sm90Layout<T, D>::bytes(a.k_clusters);
  auto kernel = block_sparse_attention_sm90_kernel<T, D>;
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  const int64_t max_tiles = (a.q_rows + kTileRows - 1) / kTileRows + a.q_clusters;
  kernel<<<dim3(unsigned(max_tiles), unsigned(a.bh)), kThreads, smem, stream>>>(a);
}

}  // namespace

bool block_sparse_attention_sm90_runs_here() {
  // The build holds sm_90a code for the kernel and the current device loads it (an sm_90 GPU):
  // the runtime then reports the binary version 90. Cached per device.
  static std::atomic<int> cached[64];  // 0 unknown, 1 yes, 2 no
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= 64) return false;
  int known = cached[device].load(std::memory_order_relaxed);
  if (known == 0) {
    cudaFuncAttributes attributes{};
    const bool yes = cudaFuncGetAttributes(&attributes, block_sparse_attention_sm90_kernel<__nv_bfloat16, 128>) ==
                         cudaSuccess && attributes.binaryVersion == 90;
    known = yes ? 1 : 2;
    cached[device].store(known, std::memory_order_relaxed);
  }
  return known == 1;
}

void launch_block_sparse_attention_sm90(const BlockSparseAttentionArgs& a, cudaStream_t stream) {
  const bool bf16 = a.element == HalfPrecision::BFloat16;
  if (a.head_dim == 64) {
    bf16 ? launch_typed<__nv_bfloat16, 64>(a, stream) : launch_typed<__half, 64>(a, stream);
  } else {
    bf16 ? launch_typed<__nv_bfloat16, 128>(a, stream) : launch_typed<__half, 128>(a, stream);
  }
}

}  // namespace svgear
