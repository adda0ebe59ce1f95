#include "kernels/block_sparse_attention/block_sparse_attention_cuda.cuh"

#include <type_traits>

#include "kernels/block_sparse_attention/attention_tile.cuh"
#include "kernels/common/half_precision_dispatch.cuh"
#include "kernels/common/mma_sm80.cuh"
#include "kernels/common/pipeline_sm90.cuh"
#include "kernels/common/sm90a_code.cuh"
#include "kernels/common/wgmma_sm90.cuh"

namespace svgear {
namespace {

using block_sparse::kTileRows;
using namespace mma_sm80;
using namespace pipeline_sm90;
namespace wg = wgmma_sm90;

// Block-sparse attention on Hopper tensor cores (wgmma, sm_90a), warp-specialised like
// FlashAttention-3. The key stream, the softmax and the output write are the sm_80 kernel's
// (attention_tile.cuh); what differs:
//
// * A CTA = one producer warpgroup + `Consumers` consumer warpgroups and a query tile of one
//   cluster: each consumer owns 64 rows (wgmma's m64), and all read the same K/V stages, so a key
//   tile is gathered once for all of them.
// * Two launches per call. Two consumers (128-row tiles, one CTA per SM) take every tile of a
//   cluster but a last one of at most 64 rows (clusters are not multiples of 128); such a tail goes
//   to the second launch, of one-consumer CTAs, two per SM, on the caller's tail stream beside the
//   first (one after the other, each launch's last wave left SMs idle). Given to a two-consumer
//   CTA, a tail left one consumer idle and its producer gathering for half the rows: 29% of the CTAs at
//   Wan-1.3B 480p, and neither splitting their keys between both consumers nor anything else inside
//   the CTA shortened them (docs/kernel-notes.md). So every consumer has rows (a two-consumer tail
//   holds 65-127).
// * Key tiles of 128 keys where shared memory allows (Keys; else 64): S_j is then eight
//   m64n128k16 products, not eight m64n64k16 ones per 64 keys: the 64-key S products, which the
//   softmax waits for, took 26-37% of the kernel's time; 128-key tiles took 7-9% off it (H200).
// * The producer gathers each tile's keys into a ring of K stages and its values into a ring of V
//   stages, in the 128-byte swizzle wgmma reads (wgmma_sm90.cuh). The keys come row by row from the
//   routed ranges, which a tensor-map copy (TMA) cannot express, so it uses cp.async: Keys of its
//   threads resolve where each row of a tile comes from into a row table and store the row's logit
//   bias beside the K stage (then arrive on its `full` barrier), all 128 copy, and each thread's
//   copies arrive on the ring's `full` barrier when they land (pipeline_sm90.cuh). It runs up to
//   `stages` tiles ahead, waiting on each ring's `empty` barrier before refilling a stage.
// * A consumer keeps Q in registers as the A operand of every Q·Kᵀ and P in registers as the A
//   operand of P·V; only K and V are read from shared memory, by the tensor core itself. Per key
//   tile j it issues S_j = Q·K_jᵀ and O += P_{j−1}·V_{j−1}, runs the softmax of S_j while P·V still
//   runs (FlashAttention-3's intra-warpgroup overlap), frees K stage j after that softmax and V
//   stage j−1 after that product.
// * Registers: the producer gives most of its share to the consumers (setmaxnreg). The CTA starts
//   with its launch share per thread (__launch_bounds__), so the split must add up to exactly that.
constexpr int kWarpgroup = 128;
constexpr int kTailRows = block_sparse_attention_sm90_tail_rows;
static_assert(kTailRows == kTileRows, "a tail the one-consumer launch takes fits one consumer");

template <int Consumers>
struct CtaShape {
  static_assert(Consumers == 1 || Consumers == 2, "one or two consumer warpgroups");
  static constexpr int kThreads = (1 + Consumers) * kWarpgroup;
  static constexpr int kCtasPerSm = Consumers == 2 ? 1 : 2;
  static constexpr int kProducerRegisters = Consumers == 2 ? 56 : 48;
  static constexpr int kConsumerRegisters = Consumers == 2 ? 224 : 208;
  // Registers per thread at launch: the register file's share, allocated in units of 8.
  static constexpr int kLaunchRegisters = 65536 / (kThreads * kCtasPerSm) / 8 * 8;
  static_assert(kWarpgroup * (kProducerRegisters + Consumers * kConsumerRegisters) == kThreads * kLaunchRegisters,
                "setmaxnreg moves registers between warpgroups: the split must add up to the launch share");
  static_assert(kThreads / 32 <= block_sparse::kMaxStreamWarps, "build_key_stream's per-warp counts");
};
constexpr int kFullTileRows = 2 * kTileRows;  // the two-consumer CTAs' query tile
static_assert(kFullTileRows == block_sparse_attention_sm90_tile_rows, "the query tiles are listed with this");
static_assert(block_sparse::QueryTiles::bounds(kFullTileRows, kTailRows), "QueryTiles::max_tiles bounds its tiles");
constexpr int kMaxStages = 4;
// A block's shared memory on Hopper (227 KB, dynamic and static together), and a block's share when
// two share an SM (228 KB less 1 KB reserved per block), each less the static part
// (build_key_stream's per-warp counts).
constexpr int kSharedMemoryLimit = 227 * 1024 - block_sparse::kStreamStaticBytes;
constexpr int kSharedMemoryHalf = (228 * 1024) / 2 - 1024 - block_sparse::kStreamStaticBytes;

// Per key row of a tile: where its K and V rows are read from (the producer's own bookkeeping).
template <typename T, int Keys>
struct RowTable {
  struct alignas(16) Row {
    const T* k;
    const T* v;
  };
  Row rows[Keys];
};

// Dynamic shared memory, from a 1024-byte-aligned base: the K ring then the V ring (each stage one
// tile of Keys rows, D/64 swizzled column blocks of Keys × 128 bytes), the consumers' Q staging
// tiles (rows padded by 8 elements for conflict-free ldmatrix), the producer's two row tables, the
// K stages' key biases, the rings' barriers, then the cluster lists.
//
// K and V have rings of their own (FlashAttention-3's two pipelines): a consumer holds K_j only
// until S_j's softmax is done, and V_{j−1} until P_{j−1}·V_{j−1} is, so with 128-key tiles two
// stages per ring keep the producer a tile ahead where one ring of K+V stages (64 KB each at
// d = 128) left room for two stages and no overlap (the eleventh session's `attn-128`).
// Stages per ring: 4 when they fit, else 2. Two consumers: from the whole block's budget. One
// consumer: from the half that leaves room for a second CTA on the SM, else the whole.
template <typename T, int D, int Consumers, int Keys>
struct Sm90Layout {
  static constexpr int kTileBytes = Keys * D * int(sizeof(T));  // a multiple of 1024
  static constexpr int kQStride = D + 8;
  static constexpr int kQBytes = kTileRows * kQStride * int(sizeof(T));
  static constexpr int kAlignment = wg::kSwizzleGroupBytes;
  static_assert(kTileBytes % kAlignment == 0, "swizzled tiles start on the swizzle period");
  static constexpr int kBiasBytes = Keys * int(sizeof(float));  // per K stage
  static constexpr int kBarriers = 4;                           // per stage: K full, K empty, V full, V empty
  static constexpr int kFixedBytes = Consumers * kQBytes + 2 * int(sizeof(RowTable<T, Keys>)) +
                                     kMaxStages * (kBiasBytes + kBarriers * int(sizeof(uint64_t))) + kAlignment;

  // A power of two, so tile j's stage and ring phase are a mask and a shift (a runtime divide cost
  // the producer 4% of the kernel's stall samples); 3 that fit become 2.
  static constexpr int stages_within(int budget, int64_t k_clusters) {
    const int room = budget - kFixedBytes - block_sparse::key_list_bytes(k_clusters);
    const int fit = room / (2 * kTileBytes) < kMaxStages ? room / (2 * kTileBytes) : kMaxStages;
    return fit >= 4 ? 4 : fit >= 2 ? 2 : fit;
  }
  static constexpr int stages_for(int64_t k_clusters) {
    return Consumers == 1 && stages_within(kSharedMemoryHalf, k_clusters) >= 2
               ? stages_within(kSharedMemoryHalf, k_clusters)
               : stages_within(kSharedMemoryLimit, k_clusters);
  }
  static_assert(kMaxStages == 4, "stages_within rounds down to a power of two up to 4");

  int stages;
  int stage_shift;  // log2(stages)
  int list_bytes;
  __host__ __device__ explicit Sm90Layout(int64_t k_clusters)
      : stages(stages_for(k_clusters)), stage_shift(stages == 4 ? 2 : 1),
        list_bytes(block_sparse::key_list_bytes(k_clusters)) {}
  __host__ __device__ int stage_of(int tile) const { return tile & (stages - 1); }
  __host__ __device__ unsigned phase_of(int tile) const { return unsigned(tile >> stage_shift) & 1u; }
  __host__ __device__ int keys(int stage) const { return stage * kTileBytes; }
  __host__ __device__ int values(int stage) const { return (stages + stage) * kTileBytes; }
  __host__ __device__ int query(int consumer) const { return 2 * stages * kTileBytes + consumer * kQBytes; }
  __host__ __device__ int tables() const { return query(Consumers); }
  __host__ __device__ int biases() const { return tables() + 2 * int(sizeof(RowTable<T, Keys>)); }
  __host__ __device__ int barriers() const { return biases() + kMaxStages * kBiasBytes; }
  __host__ __device__ int lists() const { return barriers() + kBarriers * kMaxStages * int(sizeof(uint64_t)); }
  __host__ __device__ int bytes() const { return lists() + list_bytes + kAlignment; }
};
// The 64-key layout fits every cluster count the op sends here, so the launcher can fall back to it.
static_assert(Sm90Layout<__nv_bfloat16, 128, 2, 64>::stages_for(block_sparse::kMaxKeyClusters) >= 2 &&
                  Sm90Layout<__nv_bfloat16, 128, 1, 64>::stages_for(block_sparse::kMaxKeyClusters) >= 2,
              "two stages per ring at the largest cluster count");

// The rings' mbarriers: `full` completes when a stage's data has landed, `empty` when every
// consumer is done with it (pipeline_sm90.cuh).
struct StageBarriers {
  uint64_t* key_full;
  uint64_t* key_empty;
  uint64_t* value_full;
  uint64_t* value_empty;
};

// The producer warpgroup: gathers tile j's keys into K stage j mod stages, then its values into V
// stage j mod stages.
template <typename T, int D, int Keys, typename L>
__device__ void produce_key_tiles(const block_sparse::KeyStream<T>& stream, int key_tiles, const L& layout,
                                  unsigned char* smem, const StageBarriers& bars) {
  constexpr int kChunksPerRow = D / 8;  // 16-byte chunks per row
  // One warp instruction copies 512 contiguous bytes of 2 (d = 128) or 4 (d = 64) rows. A thread
  // keeps one chunk column, so its swizzled destinations differ by whole 8-row groups.
  constexpr int kRowsPerPass = kWarpgroup / kChunksPerRow;
  static_assert(kRowsPerPass % 8 == 0, "each pass covers whole swizzle periods");
  static_assert(Keys <= kWarpgroup, "a thread resolves one row of a tile");
  constexpr int kPasses = Keys / kRowsPerPass;
  const int tid = threadIdx.x % kWarpgroup;
  const int load_row = tid / kChunksPerRow, load_chunk = tid % kChunksPerRow;
  const int load_offset = wg::swizzled_offset(load_row, load_chunk, Keys);
  RowTable<T, Keys>* tables = reinterpret_cast<RowTable<T, Keys>*>(smem + layout.tables());
  float* biases = reinterpret_cast<float*>(smem + layout.biases());
  int cursor = 0;  // thread tid < Keys resolves row tid of every tile: its slots only grow
  for (int j = 0; j < key_tiles; ++j) {
    RowTable<T, Keys>& table = tables[j & 1];
    float bias = 0.0f;
    if (tid < Keys) {
      const auto source = stream.resolve(j * Keys + tid, cursor);
      table.rows[tid] = {source.k, source.v};
      bias = source.bias;
    }
    named_barrier(1, kWarpgroup);  // the table is written; the one before last is no longer read
    const int stage = layout.stage_of(j);
    const unsigned free_phase = layout.phase_of(j) ^ 1u;
    // Each ring's row pointers first, then its copies: a copy writes shared memory, which the
    // compiler cannot tell apart from the table, so a table load written after a copy was issued
    // after it, and the producer paid one shared-memory latency per row (one per ring now).
    const T* rows[kPasses];
    mbarrier_wait(&bars.key_empty[stage], free_phase);
    if (tid < Keys) {  // a plain arrive releases this store to the consumers
      biases[stage * Keys + tid] = bias;
      mbarrier_arrive(&bars.key_full[stage]);
    }
    for (int pass = 0; pass < kPasses; ++pass) rows[pass] = table.rows[load_row + pass * kRowsPerPass].k;
    unsigned char* keys = smem + layout.keys(stage) + load_offset;
    for (int pass = 0; pass < kPasses; ++pass)
      copy16_async(keys + pass * kRowsPerPass * wg::kSwizzleBytes, rows[pass] + load_chunk * 8);
    mbarrier_arrive_on_copies(&bars.key_full[stage]);
    mbarrier_wait(&bars.value_empty[stage], free_phase);
    for (int pass = 0; pass < kPasses; ++pass) rows[pass] = table.rows[load_row + pass * kRowsPerPass].v;
    unsigned char* values = smem + layout.values(stage) + load_offset;
    for (int pass = 0; pass < kPasses; ++pass)
      copy16_async(values + pass * kRowsPerPass * wg::kSwizzleBytes, rows[pass] + load_chunk * 8);
    mbarrier_arrive_on_copies(&bars.value_full[stage]);
  }
  commit_async();  // no thread leaves with copies in flight
  wait_async<0>();
}

// A consumer warpgroup: attention of its 64 query rows over the key stream, then the output.
template <typename T, int D, int Keys, typename L>
__device__ void consume_key_tiles(const BlockSparseAttentionArgs& a, int64_t head, const block_sparse::QueryTile& tile,
                                  const block_sparse::KeyStream<T>& stream, int key_tiles, const L& layout,
                                  unsigned char* smem, T* q_s, int consumer, const StageBarriers& bars) {
  constexpr int kChunksPerRow = D / 8;
  constexpr int kKSteps = D / 16;          // k-steps of Q·Kᵀ
  constexpr int kKeyTiles = Keys / 8;      // 8-column tiles of S
  constexpr int kDimTiles = D / 8;         // 8-column tiles of O
  constexpr int kValueSteps = Keys / 16;   // k-steps of P·V
  const int tid = threadIdx.x % kWarpgroup, warp = tid / 32, lane = tid % 32;
  auto stage_of = [&](int j) { return layout.stage_of(j); };
  auto wait_for = [&](uint64_t* full, int j) {
    mbarrier_wait(&full[stage_of(j)], layout.phase_of(j));
    wg::fence_proxy_async();  // the producer's cp.async writes, read next by the tensor core
  };
  const T* qp = static_cast<const T*>(a.qp) + head * a.q_rows * D;
  for (int i = tid; i < kTileRows * kChunksPerRow; i += kWarpgroup) {
    const int r = i / kChunksPerRow, c = i % kChunksPerRow;
    const bool valid = r < tile.rows;
    copy16_async(q_s + r * L::kQStride + c * 8, qp + (tile.begin + (valid ? r : 0)) * D + c * 8, valid ? 16 : 0);
  }
  commit_async();
  wait_async<0>();
  named_barrier(2 + consumer, kWarpgroup);
  // This warp's Q rows as A fragments (ldmatrix: lanes 0-15 rows 0-15 at k, 16-31 at k + 8).
  uint32_t q_frag[kKSteps][4];
  {
    const T* base = q_s + (warp * 16 + (lane % 16)) * L::kQStride + (lane / 16) * 8;
    for (int kt = 0; kt < kKSteps; ++kt) ldmatrix_x4(q_frag[kt], base + kt * 16);
  }

  // Descriptors: K-major Kᵀ at k-step kt, MN-major V at k-step kk (wgmma_sm90.cuh). The start
  // address is the low field, so moving within shared memory adds offset / 16 to a base.
  const uint64_t base = wg::descriptor(smem, 16, wg::kSwizzleGroupBytes);
  const uint64_t values_base = wg::descriptor(smem, Keys * wg::kSwizzleBytes, wg::kSwizzleGroupBytes);
  auto keys_descriptor = [&](int j, int kt) {
    return base + uint64_t((layout.keys(stage_of(j)) + (kt / 4) * Keys * wg::kSwizzleBytes + (kt % 4) * 32) >> 4);
  };
  auto values_descriptor = [&](int j, int kk) {
    return values_base + uint64_t((layout.values(stage_of(j)) + kk * 16 * wg::kSwizzleBytes) >> 4);
  };

  const float* biases = reinterpret_cast<const float*>(smem + layout.biases());
  block_sparse::OnlineSoftmax softmax{a.scale * 1.4426950408889634f};  // exp(x) = exp2(x·log2 e)
  float acc[kDimTiles][4];
  for (int dt = 0; dt < kDimTiles; ++dt)
    for (int e = 0; e < 4; ++e) acc[dt][e] = 0.0f;
  uint32_t p_frag[kValueSteps][4];  // P of the previous key tile, the A operand of its P·V

  auto issue_scores = [&](int j, float (&s)[kKeyTiles][4]) {
    for (int kt = 0; kt < kKSteps; ++kt) wg::Mma<T, Keys, false>::run(s, q_frag[kt], keys_descriptor(j, kt), kt > 0);
    wg::commit();
  };
  auto issue_values = [&](int j) {
    for (int kk = 0; kk < kValueSteps; ++kk) wg::Mma<T, D, true>::run(acc, p_frag[kk], values_descriptor(j, kk), true);
    wg::commit();
  };
  // S_j's softmax; K stage j is free once it has read the stage's biases (S_j is done by then).
  auto weigh_scores = [&](int j, float (&s)[kKeyTiles][4], bool plain, float (&rescale)[2]) {
    const float* stage_bias = biases + stage_of(j) * Keys;
    const auto bias = [&](int column) { return stage_bias[column]; };
    const bool moved = softmax.step(s, plain, bias, rescale);
    mbarrier_arrive(&bars.key_empty[stage_of(j)]);
    return moved;
  };

  // Iteration 0 has no P·V before it, so it is peeled off the loop: one branch-free pipeline stage
  // per iteration is what lets ptxas keep the wgmmas asynchronous.
  const int plain_tiles = stream.routed_keys / Keys;  // the leading tiles of exact keys only
  if (key_tiles > 0) {
    wait_for(bars.key_full, 0);
    float s[kKeyTiles][4];
    wg::fence();
    issue_scores(0, s);
    wg::wait<0>();
    wg::fence_operand(s);
    float rescale[2];
    weigh_scores(0, s, plain_tiles > 0, rescale);  // the output is still zero: nothing to rescale
    for (int kk = 0; kk < kValueSteps; ++kk) block_sparse::pack_weights<T>(s, kk, p_frag[kk]);
  }
  // Tile j ≥ 1: S_j, then P_{j−1}·V_{j−1} under S_j's softmax. Every wgmma is waited for within
  // the iteration, so the stream runs as two loops, the tiles of exact keys only (`plain`), then
  // the rest (the routed keys' last partial tile, the virtual keys, the padding): each loop has one
  // softmax variant. In one loop ptxas predicated both variants into every iteration, which issued
  // 64 of a warp's 341 instructions per key tile for nothing.
  auto iterate = [&](int j, auto plain) {
    wait_for(bars.key_full, j);
    wait_for(bars.value_full, j - 1);
    float s[kKeyTiles][4];
    wg::fence_operand(acc);
    wg::fence();
    issue_scores(j, s);
    issue_values(j - 1);
    wg::wait<1>();  // S_j done; P_{j−1}·V_{j−1} may still run
    wg::fence_operand(s);
    float rescale[2];
    const bool moved = weigh_scores(j, s, decltype(plain)::value, rescale);
    wg::fence_operand(s);  // the weights are computed before the wait, not after: the overlap
    wg::wait<0>();
    wg::fence_operand(acc);
    mbarrier_arrive(&bars.value_empty[stage_of(j - 1)]);
    if (moved) block_sparse::OnlineSoftmax::rescale_rows(acc, rescale);
    for (int kk = 0; kk < kValueSteps; ++kk) block_sparse::pack_weights<T>(s, kk, p_frag[kk]);
  };
  int j = 1;
  for (; j < plain_tiles; ++j) iterate(j, std::true_type{});
  for (; j < key_tiles; ++j) iterate(j, std::false_type{});
  if (key_tiles > 0) {
    wait_for(bars.value_full, key_tiles - 1);
    wg::fence_operand(acc);
    wg::fence();
    issue_values(key_tiles - 1);
    wg::wait<0>();
    wg::fence_operand(acc);
    mbarrier_arrive(&bars.value_empty[stage_of(key_tiles - 1)]);
  }
  block_sparse::write_tile_output<T, D>(a, head, tile, acc, softmax);
}

template <typename T, int D, int Consumers, int Keys>
__global__ void __launch_bounds__(CtaShape<Consumers>::kThreads, CtaShape<Consumers>::kCtasPerSm)
    block_sparse_attention_sm90_kernel(const BlockSparseAttentionArgs a) {
#if SVGEAR_WGMMA_AVAILABLE
  using Shape = CtaShape<Consumers>;
  using L = Sm90Layout<T, D, Consumers, Keys>;
  const L layout(a.k_clusters);
  extern __shared__ unsigned char smem_raw[];
  const uint32_t raw_address = mma_sm80::shared_address(smem_raw);
  unsigned char* smem = smem_raw + (L::kAlignment - raw_address % L::kAlignment) % L::kAlignment;

  const int64_t head = blockIdx.y;
  block_sparse::QueryTile cta_tile;
  if (!block_sparse::listed_tile(a, head, blockIdx.x, Consumers == 1, cta_tile)) return;
  uint64_t* barriers = reinterpret_cast<uint64_t*>(smem + layout.barriers());
  const StageBarriers bars{barriers, barriers + kMaxStages, barriers + 2 * kMaxStages, barriers + 3 * kMaxStages};
  if (threadIdx.x == 0) {
    for (int stage = 0; stage < layout.stages; ++stage) {
      mbarrier_init(&bars.key_full[stage], kWarpgroup + Keys);  // every producer thread's copies, the biases
      mbarrier_init(&bars.key_empty[stage], Consumers * kWarpgroup);  // every consumer thread
      mbarrier_init(&bars.value_full[stage], kWarpgroup);
      mbarrier_init(&bars.value_empty[stage], Consumers * kWarpgroup);
    }
  }
  // Ends in a CTA barrier, which also publishes the initialised mbarriers.
  const block_sparse::KeyStream<T> stream =
      block_sparse::build_key_stream<T, D>(a, head, cta_tile.cluster, reinterpret_cast<int*>(smem + layout.lists()));
  const int key_tiles = (stream.stream_keys + Keys - 1) / Keys;

  const int warpgroup = threadIdx.x / kWarpgroup;
  if (warpgroup == 0) {
    release_registers<Shape::kProducerRegisters>();
    produce_key_tiles<T, D, Keys>(stream, key_tiles, layout, smem, bars);
  } else {
    claim_registers<Shape::kConsumerRegisters>();
    const int consumer = warpgroup - 1;
    block_sparse::QueryTile tile = cta_tile;
    tile.begin += consumer * kTileRows;
    tile.rows = cta_tile.rows - consumer * kTileRows;
    if (tile.rows > kTileRows) tile.rows = kTileRows;
    consume_key_tiles<T, D, Keys>(a, head, tile, stream, key_tiles, layout, smem,
                                  reinterpret_cast<T*>(smem + layout.query(consumer)), consumer, bars);
  }
#else
  __trap();  // only sm_90a code has a body; block_sparse_attention_sm90_runs_here() says where that is
#endif
}

template <typename T, int D, int Consumers, int Keys>
void launch_cta_shape(const BlockSparseAttentionArgs& a, unsigned tiles, cudaStream_t stream) {
  const int smem = Sm90Layout<T, D, Consumers, Keys>(a.k_clusters).bytes();
  auto kernel = block_sparse_attention_sm90_kernel<T, D, Consumers, Keys>;
  // A failure here surfaces as the launch's error, which the op checks. The cap is the most any call
  // needs, not this call's size: the same value from every host thread, so one thread's smaller
  // setting can never land between another's setting and launch. All the shared memory the SM has,
  // so that two one-consumer CTAs fit beside each other.
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSharedMemoryLimit);
  cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared);
  kernel<<<dim3(tiles, unsigned(a.bh)), CtaShape<Consumers>::kThreads, smem, stream>>>(a);
}

// 128-key tiles (S_j as m64n128k16 products) where two stages per ring fit beside the cluster
// lists, for one-consumer CTAs in the half budget that keeps two of them on an SM; else 64. A
// shape that never fits is not compiled (at d = 128 one consumer's 128-key tiles would also spill).
template <typename T, int D, int Consumers>
void launch_keys(const BlockSparseAttentionArgs& a, unsigned tiles, cudaStream_t stream) {
  using Wide = Sm90Layout<T, D, Consumers, 128>;
  constexpr int kBudget = Consumers == 1 ? kSharedMemoryHalf : kSharedMemoryLimit;
  if constexpr (Wide::stages_within(kBudget, 1) >= 2) {
    if (Wide::stages_within(kBudget, a.k_clusters) >= 2) {
      launch_cta_shape<T, D, Consumers, 128>(a, tiles, stream);
      return;
    }
  }
  launch_cta_shape<T, D, Consumers, 64>(a, tiles, stream);
}

template <typename T, int D>
void launch_typed(const BlockSparseAttentionArgs& a, cudaStream_t stream, cudaStream_t tail_stream) {
  const int64_t tiles = block_sparse::QueryTiles::max_tiles(a.q_rows, a.q_clusters, kFullTileRows);
  if (tiles > 0) launch_keys<T, D, 2>(a, unsigned(tiles), stream);
  if (a.q_clusters > 0) launch_keys<T, D, 1>(a, unsigned(a.q_clusters), tail_stream);
}

}  // namespace

bool block_sparse_attention_sm90_runs_here() {
  return sm90a_code_runs_here(reinterpret_cast<const void*>(block_sparse_attention_sm90_kernel<__nv_bfloat16, 128, 2, 64>));
}

void launch_block_sparse_attention_sm90(const BlockSparseAttentionArgs& a, cudaStream_t stream, cudaStream_t tail_stream) {
  dispatch_half_head_dim(a.element, a.head_dim, [&](auto element, auto dim) {
    launch_typed<decltype(element), decltype(dim)::value>(a, stream, tail_stream);
  });
}

}  // namespace svgear
