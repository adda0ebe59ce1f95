#include "kernels/block_routing/block_routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "kernels/common/kernel_path.h"
#include "tests/kernels/synthetic_layout.h"

namespace svgear {
namespace {

at::Tensor row_tensor(const std::vector<double>& values, at::ScalarType dtype) {
  return at::tensor(values, at::kDouble).to(dtype);
}

// Logits that give the size-weighted probabilities p_j = weights_j (which sum to 1) for key sizes n_j:
// ℓ_j = log(weights_j / n_j). Empty clusters get logit `empty_logit`.
at::Tensor logits_for(const std::vector<double>& weights, const std::vector<int64_t>& sizes, double empty_logit) {
  std::vector<double> logits(weights.size());
  for (size_t j = 0; j < weights.size(); ++j) {
    logits[j] = sizes[j] == 0 ? empty_logit : std::log(weights[j] / static_cast<double>(sizes[j]));
  }
  return row_tensor(logits, at::kFloat).view({1, 1, -1});  // [1, 1, Kc]
}

at::Tensor sizes_tensor(const std::vector<int64_t>& sizes) {
  return at::tensor(sizes, at::kLong).view({1, -1});  // [1, K]
}

std::vector<int64_t> selected(const at::Tensor& mask_row) {
  std::vector<int64_t> out;
  at::Tensor cpu = mask_row.cpu();
  for (int64_t j = 0; j < cpu.size(0); ++j) {
    if (cpu[j].item<bool>()) out.push_back(j);
  }
  return out;
}

using Indices = std::vector<int64_t>;

// Where routing runs: the reference on the CPU and, on a GPU, the kernel and the reference on the
// same CUDA inputs.
struct RoutingPath {
  at::Device device;
  KernelPath path;
  const char* name;
};

std::vector<RoutingPath> routing_paths() {
  std::vector<RoutingPath> paths = {{at::kCPU, KernelPath::Fastest, "CPU"}};
  if (at::hasCUDA()) {
    paths.push_back({at::kCUDA, KernelPath::Fastest, "CUDA kernel"});
    paths.push_back({at::kCUDA, KernelPath::Reference, "CUDA reference"});
  }
  return paths;
}

// Runs `check(device)` on every routing path.
template <typename Check>
void on_each_path(const Check& check) {
  for (const RoutingPath& route : routing_paths()) {
    SCOPED_TRACE(route.name);
    const ScopedKernelPath choice(route.path);
    check(route.device);
  }
}

TEST(RouteSvg2, KeepsTheCrossingElement) {
  // p = [0.15, 0.5, 0.05, 0.3]: sorted 0.5 (j=1), 0.3 (j=3), 0.15 (j=0), 0.05 (j=2); cumsum 0.5, 0.8, 0.95.
  const std::vector<int64_t> n = {1, 1, 1, 1};
  on_each_path([&](at::Device device) {
    at::Tensor logits = logits_for({0.15, 0.5, 0.05, 0.3}, n, 0.0).to(device), k_sizes = sizes_tensor(n).to(device);
    EXPECT_EQ(selected(route_svg2(logits, k_sizes, 0.45, 0.0)[0][0]), (Indices{1}));
    EXPECT_EQ(selected(route_svg2(logits, k_sizes, 0.7, 0.0)[0][0]), (Indices{1, 3}));  // 0.3 crosses 0.7
    EXPECT_EQ(selected(route_svg2(logits, k_sizes, 0.85, 0.0)[0][0]), (Indices{0, 1, 3}));
    EXPECT_EQ(selected(route_svg2(logits, k_sizes, 1.0, 0.0)[0][0]), (Indices{0, 1, 2, 3}));
  });
}

TEST(RouteSvg2, KeepsTheFirstMinKcClusters) {
  const std::vector<int64_t> n = {1, 1, 1, 1};
  on_each_path([&](at::Device device) {
    at::Tensor logits = logits_for({0.15, 0.5, 0.05, 0.3}, n, 0.0).to(device), k_sizes = sizes_tensor(n).to(device);
    EXPECT_EQ(selected(route_svg2(logits, k_sizes, 0.1, 0.5)[0][0]), (Indices{1, 3}));   // int(2.0)
    EXPECT_EQ(selected(route_svg2(logits, k_sizes, 0.1, 0.74)[0][0]), (Indices{1, 3}));  // int(2.96)
    EXPECT_EQ(selected(route_svg2(logits, k_sizes, 0.1, 0.75)[0][0]), (Indices{0, 1, 3}));
  });
}

TEST(RouteSvg2, WeightsBySizeAndNeverRoutesEmptyClusters) {
  // Equal logits, sizes 1, 6, 3: p = 0.1, 0.6, 0.3; the empty cluster has by far the largest logit.
  const std::vector<int64_t> n = {1, 6, 3, 0};
  on_each_path([&](at::Device device) {
    at::Tensor logits = row_tensor({0.0, 0.0, 0.0, 50.0}, at::kFloat).view({1, 1, 4}).to(device);
    at::Tensor k_sizes = sizes_tensor(n).to(device);
    EXPECT_EQ(selected(route_svg2(logits, k_sizes, 0.65, 0.0)[0][0]), (Indices{1, 2}));
    EXPECT_EQ(selected(route_svg2(logits, k_sizes, 1.0, 1.0)[0][0]), (Indices{0, 1, 2}));
  });
}

// One row worked by hand. m_i = 2, r = 0.1 with Kc = 10: G = 1 cluster, the budget force-keeps 2.
//   j      0     1     2     3     4     5     6     7     8     9
//   n_j    4     3     2     5     1     0     2     3     1     4
//   p_j   .05   .10   .02   .40   .03    0    .20   .08   .01   .11
//   score  5     1    0.5   -5     3     9     2     6    -1     4
// p order 3, 6, 9, 1, 7, 0, ...; cumsum before each .00 .40 .60 .71 .81: top_p = 0.75 keeps 3, 6, 9, 1,
// budget = 2·(5 + 2 + 4 + 3) = 28. G = {3} (area 10) although its score is the worst; remaining 18.
// Greedy by score: 5 (empty, never taken), 7 (area before 0), 0 (6), 9 (14, overshoots to 22), 4 (22: stop).
struct EarRow {
  std::vector<int64_t> n = {4, 3, 2, 5, 1, 0, 2, 3, 1, 4};
  std::vector<double> p = {.05, .10, .02, .40, .03, 0.0, .20, .08, .01, .11};
  std::vector<double> score = {5, 1, 0.5, -5, 3, 9, 2, 6, -1, 4};
  at::Tensor route(double top_p, double ratio, at::Device device) const {
    at::Tensor logits = logits_for(p, n, 0.0).to(device);
    at::Tensor scores = row_tensor(score, at::kFloat).view({1, 1, -1}).to(device);
    return route_svgear(logits, scores, at::full({1, 1}, 2, at::kLong).to(device), sizes_tensor(n).to(device), top_p,
                        ratio)[0][0];
  }
};

TEST(RouteSvgear, KeepsGuaranteedSetAndFillsGreedilyByScore) {
  EarRow row;
  on_each_path([&](at::Device device) { EXPECT_EQ(selected(row.route(0.75, 0.1, device)), (Indices{0, 3, 7, 9})); });
}

TEST(RouteSvgear, BudgetCountsTheForceKeptClusters) {
  EarRow row;
  on_each_path([&](at::Device device) {
    // top_p = 0 keeps only j = 3 by probability, but the first 2 are force-kept: budget 2·(5 + 2) =
    // 14, remaining 14 − 10 = 4; j = 7 (area 6) starts below it and is the one overshooting pick.
    EXPECT_EQ(selected(row.route(0.0, 0.1, device)), (Indices{3, 7}));
    // r = 0.25: G = the top int(2.5) = 2 (3, 6; area 14), the budget force-keeps int(5.0) = 5 (3, 6,
    // 9, 1, 7; area 34), so 20 remain: greedy 7 (area before 0), 0 (6), 9 (14, overshoots to 22), 4
    // (22: stop).
    EXPECT_EQ(selected(row.route(0.0, 0.25, device)), (Indices{0, 3, 6, 7, 9}));
  });
}

TEST(RouteSvgear, RatioEdges) {
  EarRow row;
  on_each_path([&](at::Device device) {
    // r = 0: G and the budget's force-kept prefix are still one cluster each (max(1, ·)); at top_p 0
    // the budget is G's own area, so nothing else.
    EXPECT_EQ(selected(row.route(0.0, 0.0, device)), (Indices{3}));
    // r = 0.5: G = the top 5 by p (3, 6, 9, 1, 7; area 34) and the budget force-keeps all 10 (area 50):
    // 16 remain; greedy by score 5 (empty, never taken), 0 (area before 0), 4 (8), 2 (10), 8 (14).
    EXPECT_EQ(selected(row.route(0.0, 0.5, device)), (Indices{0, 1, 2, 3, 4, 6, 7, 8, 9}));
  });
}

// Per-row host implementations in float64, written straight from the spec, for random inputs.
std::vector<double> size_weighted_probability(const std::vector<double>& logits, const std::vector<int64_t>& n) {
  double max_logit = -INFINITY;
  for (size_t j = 0; j < n.size(); ++j) {
    if (n[j] > 0) max_logit = std::max(max_logit, logits[j]);
  }
  std::vector<double> p(n.size());
  double sum = 0.0;
  for (size_t j = 0; j < n.size(); ++j) sum += p[j] = static_cast<double>(n[j]) * std::exp(logits[j] - max_logit);
  for (double& value : p) value /= sum;
  return p;
}

std::vector<size_t> descending_order(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] > values[b]; });
  return order;
}

std::vector<bool> top_p_set(const std::vector<double>& p, double top_p, size_t force_keep) {
  std::vector<size_t> order = descending_order(p);
  std::vector<bool> keep(p.size(), false);
  double before = 0.0;
  for (size_t k = 0; k < order.size(); ++k) {
    keep[order[k]] = top_p >= 1.0 || before <= top_p || k < force_keep;
    before += p[order[k]];
  }
  return keep;
}

std::vector<bool> svg2_row(const std::vector<double>& logits, const std::vector<int64_t>& n, double top_p,
                           double min_kc_ratio) {
  std::vector<bool> keep = top_p_set(size_weighted_probability(logits, n), top_p,
                                     static_cast<size_t>(min_kc_ratio * static_cast<double>(n.size())));
  for (size_t j = 0; j < n.size(); ++j) keep[j] = keep[j] && n[j] > 0;
  return keep;
}

std::vector<bool> svgear_row(const std::vector<double>& logits, const std::vector<double>& score, int64_t m,
                             const std::vector<int64_t>& n, double top_p, double r) {
  const auto kc = static_cast<double>(n.size());
  const auto g = std::max<size_t>(1, static_cast<size_t>(r * kc));
  const auto bp = std::max<size_t>(1, static_cast<size_t>(2.0 * r * kc));
  std::vector<double> p = size_weighted_probability(logits, n);
  std::vector<bool> budget_set = top_p_set(p, top_p, bp);
  std::vector<size_t> p_order = descending_order(p);
  int64_t budget = 0, guaranteed_area = 0;
  std::vector<bool> keep(n.size(), false);
  for (size_t j = 0; j < n.size(); ++j) budget += budget_set[j] ? m * n[j] : 0;
  for (size_t k = 0; k < g; ++k) {
    keep[p_order[k]] = true;
    guaranteed_area += m * n[p_order[k]];
  }
  const int64_t remaining = std::max<int64_t>(0, budget - guaranteed_area);
  std::vector<double> candidates = score;
  for (size_t k = 0; k < g; ++k) candidates[p_order[k]] = -INFINITY;
  int64_t taken = 0;
  for (size_t j : descending_order(candidates)) {
    if (taken >= remaining) break;
    keep[j] = true;
    taken += m * n[j];
  }
  for (size_t j = 0; j < n.size(); ++j) keep[j] = keep[j] && n[j] > 0;
  return keep;
}

std::vector<double> to_doubles(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

std::vector<int64_t> to_longs(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

struct RandomRouting {
  at::Tensor logits;   // [BH, Qc, Kc] f32
  at::Tensor score;    // [BH, Qc, Kc] f32
  at::Tensor q_sizes;  // [BH, Qc]
  at::Tensor k_sizes;  // [BH, Kc], with empty clusters
};

struct RoutingShape {
  int64_t bh, tokens, q_clusters, k_clusters;
};

RandomRouting random_routing(const RoutingShape& shape) {
  at::manual_seed(42);
  const auto [bh, tokens, q_clusters, k_clusters] = shape;
  return RandomRouting{3.0 * at::randn({bh, q_clusters, k_clusters}), 5.0 * at::randn({bh, q_clusters, k_clusters}),
                       test::random_layout(bh, tokens, q_clusters).sizes,
                       test::random_layout(bh, tokens, k_clusters).sizes};
}

// The CUDA kernel's cases: each CTA shape (128 threads × 4 or 8 clusters, 256 × 8) at and past its
// bounds (512, 1024, 2048), rows of one padded slot short of a full block, and many empty clusters.
const std::vector<RoutingShape> kRandomShapes = {
    {3, 300, 6, 40},       // small rows, many empty clusters
    {1, 6000, 3, 512},     // 128 × 4, full
    {1, 6000, 3, 513},     // 128 × 8, one cluster past
    {2, 20000, 4, 1000},   // the video shapes' Kc
    {1, 30000, 3, 1023},   // one slot of padding
    {1, 30000, 3, 1024},   // 128 × 8, full
    {1, 30000, 3, 1025},   // 256 × 8
    {1, 30000, 3, 2000},   // 256 × 8
    {1, 30000, 3, 2048},   // 256 × 8, full
    {1, 9000, 3, 3000},    // past the kernel's 2048: the reference on every device
};

// Rows full of ties: the logits on a 0.5 grid, the scores on the odd multiples of 0.5 (so never
// ±0); the sorts' tie-break (the lower cluster index first) decides every order.
RandomRouting tied_routing(const RoutingShape& shape) {
  RandomRouting in = random_routing(shape);
  in.logits = at::round(2.0 * in.logits) / 2.0;
  in.score = at::floor(in.score / 5.0) + 0.5;
  return in;
}

struct RoutingParams {
  double top_p, min_kc_ratio, r;
};

void check_rows(at::Device device, const RandomRouting& in, const RoutingParams& params) {
  SCOPED_TRACE(::testing::Message() << "Kc " << in.logits.size(2) << " top_p " << params.top_p << " min_kc_ratio "
                                    << params.min_kc_ratio << " r " << params.r);
  const auto [top_p, min_kc_ratio, r] = params;
  at::Tensor svg2 = route_svg2(in.logits.to(device), in.k_sizes.to(device), top_p, min_kc_ratio).cpu();
  at::Tensor ear = route_svgear(in.logits.to(device), in.score.to(device), in.q_sizes.to(device),
                                in.k_sizes.to(device), top_p, r)
                       .cpu();
  ASSERT_EQ(svg2.scalar_type(), at::kBool);
  ASSERT_EQ(ear.sizes(), in.logits.sizes());
  const at::Tensor svg2_c = svg2.contiguous(), ear_c = ear.contiguous();
  const bool* svg2_got = svg2_c.data_ptr<bool>();
  const bool* ear_got = ear_c.data_ptr<bool>();
  int svg2_kept = 0, ear_kept = 0;
  for (int64_t b = 0; b < in.logits.size(0); ++b) {
    std::vector<int64_t> n = to_longs(in.k_sizes[b]);
    for (int64_t i = 0; i < in.logits.size(1); ++i) {
      SCOPED_TRACE(::testing::Message() << "head " << b << " row " << i);
      std::vector<double> logits = to_doubles(in.logits[b][i]);
      const int64_t m = in.q_sizes[b][i].item<int64_t>();
      std::vector<bool> want_svg2 = svg2_row(logits, n, top_p, min_kc_ratio);
      std::vector<bool> want_ear = svgear_row(logits, to_doubles(in.score[b][i]), m, n, top_p, r);
      const int64_t row = (b * in.logits.size(1) + i) * in.logits.size(2);
      for (size_t j = 0; j < n.size(); ++j) {
        EXPECT_EQ(svg2_got[row + j], want_svg2[j]) << "svg2 cluster " << j;
        EXPECT_EQ(ear_got[row + j], want_ear[j]) << "svgear cluster " << j;
        svg2_kept += want_svg2[j];
        ear_kept += want_ear[j];
      }
    }
  }
  // Neither everything nor nothing: the comparison decides something.
  EXPECT_GT(svg2_kept, 0);
  EXPECT_LT(svg2_kept, svg2.numel());
  EXPECT_GT(ear_kept, 0);
  EXPECT_LT(ear_kept, ear.numel());
}

const RoutingParams kDefaultParams = {0.9, 0.1, 0.05};

TEST(BlockRouting, RandomRowsMatchPerRowHostImplementation) {
  for (const RoutingShape& shape : kRandomShapes) check_rows(at::kCPU, random_routing(shape), kDefaultParams);
}

TEST(BlockRouting, RandomRowsMatchPerRowHostImplementationOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for (const RoutingShape& shape : kRandomShapes) check_rows(at::kCUDA, random_routing(shape), kDefaultParams);
}

// Ties everywhere and every parameter's edges (top_p 0 and 1, r 0 and 0.5, no force-kept SVG2
// prefix), on each path: the CPU reference, and the kernel and the reference on the same CUDA inputs.
TEST(BlockRouting, TiedRowsAtTheParameterEdgesMatchPerRowHostImplementation) {
  const std::vector<RoutingShape> shapes = {{3, 300, 6, 40}, {1, 6000, 3, 513}, {1, 30000, 3, 1025}};
  const std::vector<RoutingParams> params = {{0.0, 0.0, 0.0}, {0.5, 0.1, 0.5}, {1.0, 0.0, 0.05}, {0.3, 0.25, 0.1}};
  on_each_path([&](at::Device device) {
    for (const RoutingShape& shape : shapes) {
      const RandomRouting in = tied_routing(shape);
      for (const RoutingParams& p : params) check_rows(device, in, p);
    }
  });
}

// top_p = 1 keeps every non-empty key cluster, in exact arithmetic and here: a peaked row whose 500
// tail probabilities (~2e-9 each after fp32 rounding) carry the fp64 prefix sum past 1 before its
// end, on the reference (CPU) and the kernel (CUDA, Kc = 512: its tree-ordered prefix sum).
TEST(BlockRouting, TopPOfOneKeepsEveryNonEmptyCluster) {
  std::vector<double> logits(512, -20.0);
  logits[0] = 0.0;
  std::vector<int64_t> n(512, 1);
  n[7] = 0;
  n[300] = 0;
  Indices nonempty;
  for (int64_t j = 0; j < 512; ++j) {
    if (n[j] > 0) nonempty.push_back(j);
  }
  std::vector<at::Device> devices = {at::kCPU};
  if (at::hasCUDA()) devices.emplace_back(at::kCUDA);
  for (const at::Device device : devices) {
    SCOPED_TRACE(device.str());
    at::Tensor l = row_tensor(logits, at::kFloat).view({1, 1, -1}).to(device);
    at::Tensor k_sizes = sizes_tensor(n).to(device);
    EXPECT_EQ(selected(route_svg2(l, k_sizes, 1.0, 0.0)[0][0]), nonempty);
    at::Tensor score = at::randn({1, 1, 512}).to(device);
    EXPECT_EQ(selected(route_svgear(l, score, at::full({1, 1}, 3, at::kLong).to(device), k_sizes, 1.0, 0.05)[0][0]),
              nonempty);
  }
}

TEST(BlockDensity, IsExactAreaOverTotalArea) {
  at::Tensor mask = (at::tensor({1, 0, 0, 1}, at::kLong) == 1).view({1, 2, 2});  // [BH, Qc, Kc]
  at::Tensor q_sizes = at::tensor({2, 3}, at::kLong).view({1, 2});
  at::Tensor k_sizes = at::tensor({4, 1}, at::kLong).view({1, 2});
  at::Tensor density = block_density(mask, q_sizes, k_sizes);
  ASSERT_EQ(density.sizes(), at::IntArrayRef({1}));
  ASSERT_EQ(density.scalar_type(), at::kFloat);
  EXPECT_FLOAT_EQ(density[0].item<float>(), (2.0f * 4 + 3.0f * 1) / 25.0f);
  EXPECT_FLOAT_EQ(block_density(at::ones_like(mask), q_sizes, k_sizes)[0].item<float>(), 1.0f);
}

TEST(BlockRouting, RejectsBadInputs) {
  at::Tensor logits = at::randn({2, 3, 5});
  at::Tensor k_sizes = at::ones({2, 5}, at::kLong);
  at::Tensor q_sizes = at::ones({2, 3}, at::kLong);
  EXPECT_THROW(route_svg2(logits, k_sizes.slice(1, 1), 0.9, 0.1), c10::Error);
  EXPECT_THROW(route_svg2(logits, k_sizes.to(at::kInt), 0.9, 0.1), c10::Error);
  EXPECT_THROW(route_svg2(logits.to(at::kDouble), k_sizes, 0.9, 0.1), c10::Error);
  EXPECT_THROW(route_svg2(logits, k_sizes, 1.5, 0.1), c10::Error);
  EXPECT_THROW(route_svgear(logits, logits.slice(2, 1), q_sizes, k_sizes, 0.9, 0.05), c10::Error);
  EXPECT_THROW(route_svgear(logits, logits, k_sizes, k_sizes, 0.9, 0.05), c10::Error);
  EXPECT_THROW(route_svgear(logits, logits, q_sizes, k_sizes, 0.9, 0.6), c10::Error);
  EXPECT_THROW(block_density(logits > 0, k_sizes, k_sizes), c10::Error);
}

}  // namespace
}  // namespace svgear
