#include <algorithm>
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "kernels/kmeans/kmeans.h"

namespace svgear {
namespace {

// Bounds the [BH, tokens, K] distance tile of one assignment pass: 2^26 floats = 256 MiB.
constexpr int64_t kMaxDistanceElements = int64_t(1) << 26;

// Nearest centroid per token by argmin (||c||² − 2 x·c): x [BH, N, d], c [BH, K, d] → [BH, N].
at::Tensor assign_labels(const at::Tensor& x, const at::Tensor& c) {
  const int64_t bh = x.size(0), n = x.size(1), k = c.size(1);
  at::Tensor c_norm = c.square().sum(-1).unsqueeze(1);  // [BH, 1, K]
  at::Tensor c_t = c.transpose(1, 2);                   // [BH, d, K]
  const int64_t chunk = std::max<int64_t>(1, kMaxDistanceElements / std::max<int64_t>(1, bh * k));
  std::vector<at::Tensor> parts;
  for (int64_t start = 0; start < n; start += chunk) {
    at::Tensor xs = x.narrow(1, start, std::min(chunk, n - start));               // [BH, n', d]
    at::Tensor dist = at::baddbmm(c_norm, xs, c_t, /*beta=*/1.0, /*alpha=*/-2.0);  // [BH, n', K]
    parts.push_back(dist.argmin(-1));                                             // [BH, n']
  }
  return parts.size() == 1 ? parts.front() : at::cat(parts, 1);  // [BH, N]
}

// Centroids placed beyond every token of their head: (hi + (hi − lo) + 1) per coordinate is at
// least range + 1 away from every token in every coordinate, so no token ever picks them.
at::Tensor far_centroids(const at::Tensor& x, int64_t count) {
  at::Tensor lo = x.amin(1);                  // [BH, d]
  at::Tensor hi = x.amax(1);                  // [BH, d]
  at::Tensor far = hi + (hi - lo) + 1.0;      // [BH, d]
  return far.unsqueeze(1).expand({x.size(0), count, x.size(2)}).contiguous();  // [BH, count, d]
}

at::Tensor gather_rows(const at::Tensor& x, const at::Tensor& index) {
  // x [BH, N, d], index [BH, m] → [BH, m, d]
  return x.gather(1, index.unsqueeze(-1).expand({index.size(0), index.size(1), x.size(2)}));
}

at::Tensor random_token_indices(int64_t bh, int64_t n, int64_t m, at::Generator& gen) {
  std::vector<at::Tensor> rows;
  rows.reserve(bh);
  for (int64_t h = 0; h < bh; ++h) rows.push_back(at::randperm(n, gen, at::kLong).narrow(0, 0, m));
  return at::stack(rows);  // [BH, m] distinct per row
}

// k-means++: the first centroid uniformly, each next one with probability ∝ D² (squared distance to
// the nearest centroid so far). The uniforms are drawn up front from the seeded CPU generator and
// each draw is an inverse-CDF lookup on x's device: CPU and CUDA pick the same tokens (up to the
// float64 cumsum's rounding), and the K sequential steps never wait on the host.
at::Tensor kmeans_plus_plus_indices(const at::Tensor& x, int64_t m, at::Generator& gen) {
  const int64_t bh = x.size(0), n = x.size(1);
  at::Tensor uniforms = at::rand({bh, m}, gen, at::kDouble).to(x.device());   // [BH, m]
  at::Tensor index = at::empty({bh, m}, x.options().dtype(at::kLong));         // [BH, m]
  at::Tensor d2 = at::ones({bh, n}, x.options().dtype(at::kDouble));           // [BH, N]: uniform first draw
  for (int64_t i = 0; i < m; ++i) {
    at::Tensor cdf = d2.cumsum(1);                                                // [BH, N]
    at::Tensor target = uniforms.narrow(1, i, 1) * cdf.narrow(1, n - 1, 1);      // [BH, 1]
    // First token whose CDF passes the target; tokens already chosen have zero-width intervals.
    // A head whose tokens are all identical (total 0) falls through to its last token.
    at::Tensor pick =
        at::searchsorted(cdf, target, /*out_int32=*/false, /*right=*/true).clamp_max_(n - 1);  // [BH, 1]
    index.narrow(1, i, 1).copy_(pick);
    at::Tensor dist = (x - gather_rows(x, pick)).square().sum(-1).to(at::kDouble);  // [BH, N]
    d2 = i == 0 ? dist : at::minimum(d2, dist);
  }
  return index;
}

// Uniforms in (0, 1), one per [BH, N] element, from a counter-based hash of (stream, element)
// computed with integer tensor ops on `device`: every device gets the same numbers, and none is
// drawn on the host. (Drawing them from the CPU generator and copying them over cost 15 ms of host
// work per k-means++ round at Wan size on a 2-core CPU: docs/attention-notes.md.) The hash is two rounds of
// xor-shift-multiply on 32-bit values held in int64; multipliers below 2^31 keep every product
// below 2^63, so nothing overflows.
at::Tensor hashed_uniforms(int64_t bh, int64_t n, uint32_t stream, at::Device device) {
  constexpr int64_t kLow32 = 0xffffffffLL;
  const auto mix = [](const at::Tensor& x) {
    at::Tensor h = x.bitwise_xor(x.bitwise_right_shift(16)).mul_(0x7feb352dLL).bitwise_and_(kLow32);
    h = h.bitwise_xor(h.bitwise_right_shift(15)).mul_(0x68e31da5LL).bitwise_and_(kLow32);
    return h.bitwise_xor(h.bitwise_right_shift(16));
  };
  at::Tensor counter = at::arange(bh * n, at::TensorOptions().dtype(at::kLong).device(device)).bitwise_and_(kLow32);
  at::Tensor h = mix(mix(counter).bitwise_xor(int64_t(stream)));
  return (h.to(at::kDouble) + 0.5).div_(4294967296.0).view({bh, n});  // [BH, N]
}

// k-means++'s D² sampling in kPlusPlusRounds rounds instead of one draw per centre: the first
// centre uniformly, then each round draws its share of the rest at once, without replacement,
// ∝ D² (Gumbel-top-k on log D²), and D² drops to the distance to the nearest centre so far. K
// sequential passes become kPlusPlusRounds. The Gumbel noise is hashed_uniforms of a stream drawn
// from the seeded generator per round, so every device picks the same tokens (up to rounding of
// the distances).
constexpr int kPlusPlusRounds = 16;

at::Tensor kmeans_plus_plus_rounds_indices(const at::Tensor& x, int64_t m, at::Generator& gen) {
  const int64_t bh = x.size(0), n = x.size(1);
  const auto on_device = [&](const at::Tensor& t) { return t.to(x.device()); };
  at::Tensor index = on_device(at::randint(n, {bh, 1}, gen, at::kLong));  // [BH, 1] the first centre
  at::Tensor x_norm = x.square().sum(-1);  // [BH, N]
  at::Tensor d2;                           // [BH, N] float64
  at::Tensor fresh = index;
  for (int round = 0;; ++round) {
    at::Tensor centres = gather_rows(x, fresh);  // [BH, c, d]
    // ||x||² is the same for every centre of a row, so it joins after the min: one [BH, N, c]
    // tensor (the GEMM's, ||c||² − 2 x·c) and one pass over it, where the whole expression took
    // five (most of a cold call's k-means++ time on the GPU, docs/attention-notes.md).
    at::Tensor c_norm = centres.square().sum(-1).unsqueeze(1);  // [BH, 1, c], broadcast over the rows
    at::Tensor dist = at::baddbmm(c_norm, x, centres.transpose(1, 2), /*beta=*/1.0, /*alpha=*/-2.0)
                          .amin(-1)
                          .add_(x_norm)
                          .clamp_min_(0.0)
                          .to(at::kDouble);  // [BH, N]
    d2 = d2.defined() ? at::minimum(d2, dist) : dist;
    d2.scatter_(1, index, 0.0);  // the chosen tokens themselves, exactly (the expansion leaves ~1e-6)
    const int64_t done = index.size(1);
    if (done >= m) break;
    const int64_t rounds_left = std::max<int64_t>(1, kPlusPlusRounds - 1 - round);
    const int64_t take = (m - done + rounds_left - 1) / rounds_left;
    const auto stream = uint32_t(at::randint(int64_t(1) << 32, {1}, gen, at::kLong).item<int64_t>());
    at::Tensor gumbel = -at::log(-at::log(hashed_uniforms(bh, n, stream, x.device())));
    fresh = std::get<1>((d2.log() + gumbel).topk(take, 1));  // log 0 = −inf: a chosen token only as a last resort
    index = at::cat({index, fresh}, 1);
  }
  return index;  // [BH, m]
}

}  // namespace

KMeansResult kmeans_reference(const at::Tensor& x_f32, const at::Tensor& init_centroids,
                              int iterations, const BetweenIterations& between) {
  const int64_t bh = x_f32.size(0), n = x_f32.size(1), d = x_f32.size(2);
  const int64_t k = init_centroids.size(1);
  at::Tensor x_flat = x_f32.view({bh * n, d});                                      // [BH·N, d]
  at::Tensor head_base = at::arange(bh, x_f32.options().dtype(at::kLong)).mul_(k);  // [BH]
  at::Tensor centroids = init_centroids.clone();
  at::Tensor labels, sizes;
  for (int it = 0; it < iterations; ++it) {
    if (it > 0 && between) between();
    labels = assign_labels(x_f32, centroids);                      // [BH, N]
    at::Tensor flat = (labels + head_base.unsqueeze(1)).view(-1);  // [BH·N] into [BH·K]
    // Segmented sums in float32 via index_add_ (no sort, no host sync).
    at::Tensor sums = at::zeros({bh * k, d}, x_f32.options()).index_add_(0, flat, x_flat);
    sizes = at::zeros({bh * k}, flat.options()).index_add_(0, flat, at::ones_like(flat));
    at::Tensor means = sums / sizes.clamp_min(1).unsqueeze(1).to(at::kFloat);  // [BH·K, d]
    // An empty cluster keeps its previous centroid [spec §2.2].
    centroids = at::where((sizes > 0).unsqueeze(1), means, centroids.view({bh * k, d}))
                    .view({bh, k, d});
    sizes = sizes.view({bh, k});
  }
  return {labels, centroids, sizes, cluster_layout_reference(labels, k), {}};
}

at::Tensor kmeans_init_reference(const at::Tensor& x_f32, int64_t k, uint64_t seed,
                                 KMeansInit method) {
  const int64_t bh = x_f32.size(0), n = x_f32.size(1);
  const int64_t m = std::min(k, n);  // clusters that get a token; the rest stay empty
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor index;  // [BH, m]
  switch (method) {
    case KMeansInit::KMeansPlusPlus: index = kmeans_plus_plus_indices(x_f32, m, gen); break;
    case KMeansInit::KMeansPlusPlusRounds: index = kmeans_plus_plus_rounds_indices(x_f32, m, gen); break;
    default: index = random_token_indices(bh, n, m, gen).to(x_f32.device()); break;
  }
  at::Tensor centroids = gather_rows(x_f32, index);  // [BH, m, d]
  if (m == k) return centroids;
  return at::cat({centroids, far_centroids(x_f32, k - m)}, 1);  // [BH, K, d]
}

}  // namespace svgear
