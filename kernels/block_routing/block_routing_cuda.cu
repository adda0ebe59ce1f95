#include "kernels/block_routing/block_routing_cuda.cuh"

#include <cub/block/block_load.cuh>
#include <cub/block/block_radix_sort.cuh>
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>

namespace svgear {
namespace {

// One CTA routes one query cluster's row (block_routing.h), all in shared memory, with CUB's block
// primitives: kThreads threads hold kItems consecutive key clusters each (a blocked arrangement;
// slots past Kc are padding that sorts last and is never written).
//   1. p_j = softmax_j(ℓ_j + log n_j) in fp32, as the reference; n_j = 0 gives p_j = 0.
//   2. a stable descending radix sort of (p_j, j); the exclusive prefix sum of the sorted p in fp64
//      decides top-p (Σ before ≤ top_p, or rank < force_keep).
//   SVG2: mask = kept ∧ n_j > 0, written at j.
//   SVG-EAR: budget = area of the kept set, G = the first `guaranteed` ranks; then a second stable
//   descending sort of the scores with G at −inf, and the exclusive prefix sum of the areas in that
//   order (int64, exact): take j while the area before it is < budget − area(G).
// Up to Kc = 1024, 128-thread CTAs of 4 or 8 items: at 48 / 56 registers per thread ten or nine
// of them share an SM where 256-thread ones fit five (Wan-1.3B 480p: 2,400 CTAs, four partial
// waves at five per SM). Up to Kc = 2048, 256 threads of 8 (the sort's shared memory stays below
// 48 KB).
constexpr int kSmallThreads = 128;
constexpr int kMaxThreads = 256;
constexpr int kMaxItems = 8;

template <int kThreads, int kItems>
struct RowStorage {
  union {
    typename cub::BlockRadixSort<float, kThreads, kItems, int>::TempStorage sort;
    typename cub::BlockScan<double, kThreads>::TempStorage scan_p;
    typename cub::BlockScan<long long, kThreads>::TempStorage scan_area;
    typename cub::BlockReduce<float, kThreads>::TempStorage reduce_float;
    typename cub::BlockReduce<long long, kThreads>::TempStorage reduce_area;
  } cub;
  float broadcast_float;
  long long broadcast_area;
};

template <int kThreads, int kItems>
__global__ void __launch_bounds__(kThreads) block_routing_kernel(const BlockRoutingArgs a) {
  using Sort = cub::BlockRadixSort<float, kThreads, kItems, int>;
  using ReduceFloat = cub::BlockReduce<float, kThreads>;
  using ReduceArea = cub::BlockReduce<long long, kThreads>;
  __shared__ RowStorage<kThreads, kItems> storage;
  extern __shared__ unsigned char dynamic_smem[];
  int* sizes = reinterpret_cast<int*>(dynamic_smem);                             // [Kc] n_j
  bool* in_guaranteed = reinterpret_cast<bool*>(sizes + a.k_clusters);          // [Kc] j ∈ G

  const int64_t row = blockIdx.x;  // head · Qc + query cluster
  const int64_t head = row / a.q_clusters;
  const int kc = int(a.k_clusters);
  const float* logits = a.centroid_logits + row * kc;
  const int64_t* k_sizes = a.k_sizes + head * kc;
  bool* mask = a.mask + row * kc;
  const int first = threadIdx.x * kItems;  // this thread's clusters: first .. first + kItems − 1

  for (int j = threadIdx.x; j < kc; j += kThreads) sizes[j] = int(k_sizes[j]);
  __syncthreads();

  // 1. Size-weighted probabilities.
  float x[kItems];
  float local_max = -__builtin_inff();
  for (int i = 0; i < kItems; ++i) {
    const int j = first + i;
    x[i] = j < kc && sizes[j] > 0 ? logits[j] + logf(float(sizes[j])) : -__builtin_inff();
    local_max = fmaxf(local_max, x[i]);
  }
  const float row_max = ReduceFloat(storage.cub.reduce_float).Reduce(local_max, [](float u, float v) { return fmaxf(u, v); });
  if (threadIdx.x == 0) storage.broadcast_float = row_max;
  __syncthreads();
  const float max_x = storage.broadcast_float;
  float local_sum = 0.0f;
  for (int i = 0; i < kItems; ++i) {
    x[i] = max_x == -__builtin_inff() ? 0.0f : expf(x[i] - max_x);  // every cluster empty: p = 0
    local_sum += x[i];
  }
  const float row_sum = ReduceFloat(storage.cub.reduce_float).Sum(local_sum);
  __syncthreads();
  if (threadIdx.x == 0) storage.broadcast_float = row_sum;
  __syncthreads();
  const float sum = storage.broadcast_float;

  // 2. Sorted by probability, descending and stable; padding (key −1) sorts after every p >= 0.
  float key[kItems];
  int index[kItems];
  for (int i = 0; i < kItems; ++i) {
    const int j = first + i;
    key[i] = j < kc ? (sum > 0.0f ? x[i] / sum : 0.0f) : -1.0f;
    index[i] = j;
  }
  Sort(storage.cub.sort).SortDescending(key, index);
  __syncthreads();
  double p_before[kItems];
  {
    double p[kItems];
    for (int i = 0; i < kItems; ++i) p[i] = key[i] > 0.0f ? double(key[i]) : 0.0;
    cub::BlockScan<double, kThreads>(storage.cub.scan_p).ExclusiveSum(p, p_before);
    __syncthreads();
  }
  bool kept[kItems];  // in sorted order: rank = first + i
  // top_p >= 1 keeps every rank, as in exact arithmetic (the rounded prefix can pass 1 early).
  for (int i = 0; i < kItems; ++i) kept[i] = a.top_p >= 1.0 || p_before[i] <= a.top_p || first + i < a.force_keep;

  if (a.score == nullptr) {  // SVG2
    for (int i = 0; i < kItems; ++i) {
      const int j = index[i];
      if (j < kc) mask[j] = kept[i] && sizes[j] > 0;
    }
    return;
  }

  // SVG-EAR: the budget and G in sorted order.
  const long long m = a.q_sizes[row];
  long long budget_part = 0, guaranteed_part = 0;
  for (int i = 0; i < kItems; ++i) {
    const int j = index[i];
    if (j >= kc) continue;
    const long long area = m * sizes[j];
    if (kept[i]) budget_part += area;
    const bool in_g = first + i < a.guaranteed;
    if (in_g) guaranteed_part += area;
    in_guaranteed[j] = in_g;
  }
  const long long budget = ReduceArea(storage.cub.reduce_area).Sum(budget_part);
  __syncthreads();
  const long long guaranteed_area = ReduceArea(storage.cub.reduce_area).Sum(guaranteed_part);
  if (threadIdx.x == 0) storage.broadcast_area = budget - guaranteed_area > 0 ? budget - guaranteed_area : 0;
  __syncthreads();
  const long long remaining = storage.broadcast_area;

  // Greedy fill: scores descending (stable), G last; the area taken before each candidate.
  const float* score = a.score + row * kc;
  for (int i = 0; i < kItems; ++i) {
    const int j = first + i;
    key[i] = j < kc && !in_guaranteed[j] ? score[j] : -__builtin_inff();
    index[i] = j;
  }
  Sort(storage.cub.sort).SortDescending(key, index);
  __syncthreads();
  long long area[kItems], area_before[kItems];
  for (int i = 0; i < kItems; ++i) area[i] = index[i] < kc ? m * sizes[index[i]] : 0;
  cub::BlockScan<long long, kThreads>(storage.cub.scan_area).ExclusiveSum(area, area_before);
  for (int i = 0; i < kItems; ++i) {
    const int j = index[i];
    if (j < kc) mask[j] = (in_guaranteed[j] || area_before[i] < remaining) && sizes[j] > 0;
  }
}

template <int kThreads, int kItems>
void launch_shape(const BlockRoutingArgs& a, cudaStream_t stream) {
  const size_t smem = size_t(a.k_clusters) * (sizeof(int) + sizeof(bool));
  block_routing_kernel<kThreads, kItems><<<unsigned(a.bh * a.q_clusters), kThreads, smem, stream>>>(a);
}

}  // namespace

bool block_routing_cuda_supports(int64_t rows, int64_t k_clusters) {
  return rows < (int64_t(1) << 31) && k_clusters >= 1 && k_clusters <= int64_t(kMaxThreads) * kMaxItems;  // grid x
}

void launch_block_routing(const BlockRoutingArgs& a, cudaStream_t stream) {
  if (a.bh == 0 || a.q_clusters == 0) return;
  if (a.k_clusters <= kSmallThreads * 4) {
    launch_shape<kSmallThreads, 4>(a, stream);
  } else if (a.k_clusters <= kSmallThreads * kMaxItems) {
    launch_shape<kSmallThreads, kMaxItems>(a, stream);
  } else {
    launch_shape<kMaxThreads, kMaxItems>(a, stream);
  }
}

}  // namespace svgear
