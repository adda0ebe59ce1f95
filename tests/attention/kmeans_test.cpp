#include "kernels/kmeans/kmeans.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "kernels/common/kernel_path.h"
#include "tests/attention/clustered_qkv.h"
#include "tests/support/slow_stream_work.h"
#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

// Lloyd's algorithm with plain loops in float64: the definition kmeans must agree with.
KMeansResult loop_kmeans(const at::Tensor& x, const at::Tensor& init, int iterations) {
  const int64_t bh = x.size(0), n = x.size(1), d = x.size(2), k = init.size(1);
  auto xa = x.to(at::kDouble).contiguous();
  auto c = init.to(at::kDouble).clone();
  at::Tensor labels = at::zeros({bh, n}, at::kLong);
  at::Tensor sizes = at::zeros({bh, k}, at::kLong);
  auto X = xa.accessor<double, 3>();
  auto C = c.accessor<double, 3>();
  auto L = labels.accessor<int64_t, 2>();
  auto S = sizes.accessor<int64_t, 2>();
  for (int it = 0; it < iterations; ++it) {
    for (int64_t b = 0; b < bh; ++b) {
      for (int64_t t = 0; t < n; ++t) {
        double best = std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < k; ++j) {
          double dist = 0.0;
          for (int64_t e = 0; e < d; ++e) dist += (X[b][t][e] - C[b][j][e]) * (X[b][t][e] - C[b][j][e]);
          if (dist < best) {
            best = dist;
            L[b][t] = j;
          }
        }
      }
      std::vector<std::vector<double>> sums(k, std::vector<double>(d, 0.0));
      for (int64_t j = 0; j < k; ++j) S[b][j] = 0;
      for (int64_t t = 0; t < n; ++t) {
        S[b][L[b][t]] += 1;
        for (int64_t e = 0; e < d; ++e) sums[L[b][t]][e] += X[b][t][e];
      }
      for (int64_t j = 0; j < k; ++j) {
        if (S[b][j] == 0) continue;
        for (int64_t e = 0; e < d; ++e) C[b][j][e] = sums[j][e] / double(S[b][j]);
      }
    }
  }
  return {labels, c.to(at::kFloat), sizes, cluster_layout(labels, k), {}};
}

// Mean squared distance of every token to its centroid.
double inertia(const at::Tensor& x, const KMeansResult& r) {
  at::Tensor assigned = r.centroids.gather(
      1, r.labels.unsqueeze(-1).expand({x.size(0), x.size(1), x.size(2)}));  // [BH, N, d]
  return (x.to(at::kDouble) - assigned.to(at::kDouble)).square().sum(-1).mean().item<double>();
}

std::vector<at::Device> devices() {
  std::vector<at::Device> list = {at::kCPU};
  if (at::hasCUDA()) list.push_back(at::Device(at::kCUDA, 0));
  return list;
}

TEST(KMeans, AgreesWithPlainLoopsOnSmallInputs) {
  at::Tensor x = test::gaussian_mixture(3, 37, 5, 4, 3.0, 7);  // N = 37: a multiple of nothing
  at::Tensor init = kmeans_init(x, 6, 11, KMeansInit::RandomTokens);
  for (int iterations : {1, 3, 10}) {
    KMeansResult expected = loop_kmeans(x, init, iterations);
    for (const at::Device& device : devices()) {
      KMeansResult got = kmeans(x.to(device), init.to(device), iterations);
      EXPECT_TRUE(at::equal(got.labels.cpu(), expected.labels)) << device << " it=" << iterations;
      EXPECT_TRUE(at::equal(got.sizes.cpu(), expected.sizes)) << device;
      EXPECT_TRUE(test::tensors_close(got.centroids.cpu(), expected.centroids, 1e-6)) << device;
      EXPECT_EQ(got.centroids.scalar_type(), at::kFloat);
      EXPECT_EQ(got.labels.scalar_type(), at::kLong);
    }
  }
}

TEST(KMeans, EmptyClustersKeepTheirCentroids) {
  at::manual_seed(2);
  at::Tensor x = at::randn({2, 50, 4});
  at::Tensor init = kmeans_init(x, 3, 5, KMeansInit::RandomTokens);
  init.select(1, 1).fill_(1000.0f);  // no token is near cluster 1
  for (const at::Device& device : devices()) {
    KMeansResult r = kmeans(x.to(device), init.to(device), 4);
    EXPECT_EQ(r.sizes.select(1, 1).cpu().sum().item<int64_t>(), 0) << device;
    EXPECT_TRUE(at::equal(r.centroids.select(1, 1).cpu(), init.select(1, 1))) << device;
    EXPECT_TRUE(at::equal(r.sizes.sum(1).cpu(), at::full({2}, 50, at::kLong))) << device;
  }
}

TEST(KMeans, MoreClustersThanTokensLeavesTheRestEmpty) {
  at::manual_seed(3);
  at::Tensor x = at::randn({2, 4, 3});
  for (KMeansInit method :
       {KMeansInit::RandomTokens, KMeansInit::KMeansPlusPlus, KMeansInit::KMeansPlusPlusRounds}) {
    at::Tensor init = kmeans_init(x, 10, 3, method);
    ASSERT_EQ(init.sizes(), at::IntArrayRef({2, 10, 3}));
    for (const at::Device& device : devices()) {
      KMeansResult r = kmeans(x.to(device), init.to(device), 5);
      at::Tensor sizes = r.sizes.cpu();
      // Every token is its own cluster of size 1; clusters 4..9 stay empty.
      EXPECT_TRUE(at::equal(sizes.narrow(1, 0, 4), at::ones({2, 4}, at::kLong))) << device;
      EXPECT_TRUE(at::equal(sizes.narrow(1, 4, 6), at::zeros({2, 6}, at::kLong))) << device;
      EXPECT_TRUE(at::equal(r.centroids.cpu().narrow(1, 4, 6), init.narrow(1, 4, 6))) << device;
    }
  }
}

TEST(KMeans, MoreClustersThanDistinctPoints) {
  // 23 tokens with only 3 distinct values, 8 clusters started on distinct tokens: several start on
  // the same value. Every cluster stays pure (one value; its centroid is that value) and the sizes
  // add up. Which of two identical centroids a token joins is not fixed: the GEMM's rounding differs
  // between rows, so identical tokens may split across identical centroids.
  at::manual_seed(4);
  at::Tensor values = at::randn({1, 3, 6}) * 5;
  at::Tensor which = at::randint(3, {1, 23}, at::kLong);
  at::Tensor x = values.gather(1, which.unsqueeze(-1).expand({1, 23, 6}));  // [1, 23, 6]
  KMeansResult r = kmeans(x, kmeans_init(x, 8, 9, KMeansInit::RandomTokens), 10);
  EXPECT_EQ(r.sizes.sum().item<int64_t>(), 23);
  for (int64_t t = 0; t < 23; ++t) {
    const int64_t label = r.labels[0][t].item<int64_t>();
    EXPECT_TRUE(at::allclose(r.centroids[0][label], x[0][t], 1e-6, 1e-6)) << "token " << t;
  }
}

TEST(KMeans, DeterministicForASeedAndAcceptsHalfPrecision) {
  at::Tensor x = test::gaussian_mixture(2, 301, 16, 6, 4.0, 3);
  for (KMeansInit method :
       {KMeansInit::RandomTokens, KMeansInit::KMeansPlusPlus, KMeansInit::KMeansPlusPlusRounds}) {
    at::Tensor a = kmeans_init(x, 12, 42, method);
    at::Tensor b = kmeans_init(x, 12, 42, method);
    at::Tensor c = kmeans_init(x, 12, 43, method);
    EXPECT_TRUE(at::equal(a, b));
    EXPECT_FALSE(at::equal(a, c));
    KMeansResult ra = kmeans(x, a, 7);
    KMeansResult rb = kmeans(x, b, 7);
    EXPECT_TRUE(at::equal(ra.labels, rb.labels));
    EXPECT_TRUE(at::equal(ra.centroids, rb.centroids));
  }
  KMeansResult half = kmeans(x.to(at::kBFloat16), kmeans_init(x.to(at::kBFloat16), 12, 1, KMeansInit::RandomTokens), 3);
  EXPECT_EQ(half.centroids.scalar_type(), at::kFloat);
  EXPECT_EQ(half.sizes.sum().item<int64_t>(), 2 * 301);
  // A strided [B, H, N, d] → [BH, N, d] view clusters like its contiguous copy (spec P2).
  at::Tensor strided = x.transpose(0, 1).contiguous().transpose(0, 1);
  ASSERT_FALSE(strided.is_contiguous());
  at::Tensor init = kmeans_init(x, 12, 5, KMeansInit::RandomTokens);
  EXPECT_TRUE(at::equal(kmeans(strided, init, 4).labels, kmeans(x, init, 4).labels));
}

struct KMeansCase {
  int64_t bh, tokens, head_dim, clusters, components;
};

const std::vector<KMeansCase> kCudaKMeansCases = {
    {3, 1000, 128, 100, 20},  // tiles of 64 or 128 tokens and centroids, neither a multiple
    {2, 4099, 64, 300, 40},
    {2, 600, 128, 200, 16},   // two 128-centroid tiles, the second partial (the queries' K); wgmma: resident
                              // centroids, a CTA of four row tiles and one of a partial one
    {1, 512, 128, 200, 9},    // resident centroids: one CTA's four row tiles exactly
    {1, 1000, 128, 256, 10},  // the most resident centroids, several row tiles per CTA
    {2, 900, 64, 250, 12},    // resident at d = 64, two centroid tiles
    {2, 37, 128, 50, 5},      // more clusters than tokens: far, empty clusters
    {1, 777, 64, 1, 3},       // one cluster
    {2, 130, 128, 2000, 10},  // many clusters, almost all empty
    {2, 256, 64, 128, 12},    // both exact multiples of the tiles
    {1, 64, 128, 256, 8},     // the wgmma kernel's second warpgroup has no tokens
    // The update's warps per cluster (from the mean cluster size): 4, the last block half empty;
    // 2, several clusters per block.
    {1, 700, 128, 7, 7},
    {2, 1500, 64, 30, 12},
    // The counting sort: three clusters over three 2048-row chunks (long runs of one label across
    // chunk boundaries), and the most clusters it takes (16384: its shared-memory counts at 64 KB).
    {1, 5000, 64, 3, 3},
    {1, 300, 64, 16384, 5},
};

// The CUDA kernels (bf16 / fp16 tokens, d 64 and 128) against the definition on the same rounded
// tokens: sizes are the label histogram; every centroid is the fp64 mean of its tokens (1e-5) or,
// empty, its previous value; after one iteration every label is a nearest rounded initial centroid
// (distance within 1e-4 of the minimum, relative to ||x||² + ||c||²) and agrees with the fp32
// reference but for near-ties; after several, the inertia stays within 2% of the reference's.
void check_cuda_kmeans(at::ScalarType dtype, const std::vector<KMeansCase>& cases = kCudaKMeansCases) {
  const at::Device cuda(at::kCUDA, 0);
  for (const KMeansCase& c : cases) {
    at::Tensor x = test::gaussian_mixture(c.bh, c.tokens, c.head_dim, c.components, 4.0, 17).to(dtype);
    at::Tensor xf = x.to(at::kFloat);                                             // the rounded tokens
    at::Tensor init = kmeans_init(xf, c.clusters, 5, KMeansInit::RandomTokens);  // tokens: exact in dtype
    for (const int iterations : {1, 3}) {
      SCOPED_TRACE(::testing::Message() << dtype << " BH " << c.bh << " N " << c.tokens << " d " << c.head_dim
                                        << " K " << c.clusters << " iterations " << iterations);
      KMeansResult r = kmeans(x.to(cuda), init.to(cuda), iterations, KMeansPoints::InClusterOrder);
      ASSERT_TRUE(r.labels.is_cuda());
      at::Tensor labels = r.labels.cpu(), sizes = r.sizes.cpu(), centroids = r.centroids.cpu();
      ASSERT_GE(labels.min().item<int64_t>(), 0);
      ASSERT_LT(labels.max().item<int64_t>(), c.clusters);
      at::Tensor histogram = at::zeros({c.bh, c.clusters}, at::kLong).scatter_add_(1, labels, at::ones_like(labels));
      EXPECT_TRUE(at::equal(sizes, histogram));
      // The layout taken from the kernel's own sort is cluster_layout's (a stable sort by label).
      ClusterLayout layout = cluster_layout(labels, c.clusters);
      EXPECT_TRUE(at::equal(r.layout.order.cpu(), layout.order));
      EXPECT_TRUE(at::equal(r.layout.offsets.cpu(), layout.offsets));
      // The points the last update wrote are x in that order.
      EXPECT_TRUE(at::equal(r.points.cpu(), gather_tokens(x, layout.order)));

      at::Tensor index = labels.unsqueeze(-1).expand({c.bh, c.tokens, c.head_dim});
      at::Tensor sums = at::zeros({c.bh, c.clusters, c.head_dim}, at::kDouble).scatter_add_(1, index, xf.to(at::kDouble));
      at::Tensor nonempty = (sizes > 0).unsqueeze(-1);
      at::Tensor means = sums / sizes.clamp_min(1).unsqueeze(-1).to(at::kDouble);
      EXPECT_TRUE(test::tensors_close(centroids.to(at::kDouble) * nonempty, means * nonempty, 1e-5));
      if (iterations == 1) {
        EXPECT_TRUE(at::equal(centroids.masked_select(nonempty.logical_not()),
                              init.masked_select(nonempty.logical_not())));
        at::Tensor c64 = init.to(dtype).to(at::kDouble);                                  // [BH, K, d]
        at::Tensor x64 = xf.to(at::kDouble);                                              // [BH, N, d]
        at::Tensor distances = (x64.square().sum(-1, true) - 2 * at::bmm(x64, c64.transpose(1, 2)) +
                                c64.square().sum(-1).unsqueeze(1));                       // [BH, N, K]
        at::Tensor chosen = distances.gather(2, labels.unsqueeze(-1)).squeeze(-1);        // [BH, N]
        at::Tensor nearest = std::get<0>(distances.min(2));                               // [BH, N]
        at::Tensor scale = x64.square().sum(-1) + c64.square().sum(-1).amax(1, true);     // [BH, N]
        EXPECT_LE(((chosen - nearest) / scale).max().item<double>(), 1e-4);
        KMeansResult expected = kmeans(xf, init, 1);
        EXPECT_GE(labels.eq(expected.labels).to(at::kDouble).mean().item<double>(), 0.99);
      } else {
        KMeansResult expected = kmeans(xf, init, iterations);
        const double got = inertia(xf, {labels, centroids, sizes, r.layout, {}});
        EXPECT_NEAR(got, inertia(xf, expected), 0.02 * inertia(xf, expected));
        // A cluster empty after the last iteration keeps the centroid the iteration before gave it
        // (the kernels are deterministic, so that is the fewer-iterations call's).
        at::Tensor empty = nonempty.logical_not().expand_as(centroids);
        KMeansResult before = kmeans(x.to(cuda), init.to(cuda), iterations - 1);
        EXPECT_TRUE(at::equal(centroids.masked_select(empty), before.centroids.cpu().masked_select(empty)));
      }
      // Deterministic: the same call gives the same bits, and without points the same clusters.
      KMeansResult again = kmeans(x.to(cuda), init.to(cuda), iterations);
      EXPECT_TRUE(at::equal(again.labels.cpu(), labels));
      EXPECT_TRUE(at::equal(again.centroids.cpu(), centroids));
      EXPECT_FALSE(again.points.defined());
    }
  }
}

// Runs `check` under both assignment kernels: wgmma where the GPU runs the build's sm_90a code, and
// mma.sync (the sm_80 path, which a Hopper GPU otherwise never runs).
template <typename Check>
void on_each_kernel_path(const Check& check) {
  for (const KernelPath path : {KernelPath::Fastest, KernelPath::Portable}) {
    ScopedKernelPath choice(path);
    SCOPED_TRACE(path == KernelPath::Fastest ? "fastest kernels" : "portable kernels");
    check();
  }
}

TEST(KMeans, CudaKernelsBf16) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  on_each_kernel_path([] { check_cuda_kmeans(at::kBFloat16); });
}

TEST(KMeans, CudaKernelsFp16) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  on_each_kernel_path([] { check_cuda_kmeans(at::kHalf); });
}

// Several heads over several chunks of the counting sort: the most clusters at d = 128 (two chunks,
// the second of 52 rows; 128 centroid tiles), and one cluster over exactly two full chunks. A test
// of its own: compute-sanitizer's racecheck takes CudaKernelsBf16 and would run out of time here.
TEST(KMeans, CudaKernelsOverSeveralHeadsAndChunks) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  on_each_kernel_path([] { check_cuda_kmeans(at::kBFloat16, {{2, 2100, 128, 16384, 20}, {3, 4096, 64, 1, 2}}); });
}

// Identical centroids give identical distances, and the lowest index must win: every token joins
// the first of its nearest centroid's three copies. Copies lie 100 apart, so they meet across
// centroid tiles (64 or 128) and within one.
TEST(KMeans, CudaKernelsBreakTiesTowardTheLowerCluster) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda(at::kCUDA, 0);
  on_each_kernel_path([&] {
    for (const at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
      for (const int64_t head_dim : {64, 128}) {
        SCOPED_TRACE(::testing::Message() << dtype << " d " << head_dim);
        at::Tensor x = test::gaussian_mixture(2, 300, head_dim, 12, 4.0, 23).to(dtype);
        at::Tensor init = kmeans_init(x.to(at::kFloat), 100, 7, KMeansInit::RandomTokens).repeat({1, 3, 1});  // [2, 300, d]
        KMeansResult r = kmeans(x.to(cuda), init.to(cuda), 1);
        EXPECT_LT(r.labels.max().item<int64_t>(), 100);
        EXPECT_EQ(r.sizes.narrow(1, 100, 200).sum().item<int64_t>(), 0);
      }
    }
  });
}

// A token's label depends on its own distances only: every 16th token (one per warp's rows in
// both assignment kernels) is an outlier, 100 times the others' scale or infinite in one element,
// and every other token still takes a nearest initial centroid to within 1e-5 of its own scale
// ||x||² + ||c||². (An argmin that rounded each row's distances relative to the largest norm among
// its 16 rows let the others' near-ties go to the lower index, ~1e-2 off here.)
TEST(KMeans, CudaLabelsIgnoreTheirNeighboursRows) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda(at::kCUDA, 0);
  on_each_kernel_path([&] {
    for (const int64_t head_dim : {64, 128}) {
      for (const int64_t clusters : {100, 300}) {  // wgmma: resident centroids, then streamed
        for (const double outlier : {100.0, std::numeric_limits<double>::infinity()}) {
          SCOPED_TRACE(::testing::Message() << "d " << head_dim << " K " << clusters << " outlier " << outlier);
          at::Tensor x = test::gaussian_mixture(2, 640, head_dim, 20, 4.0, 31).to(at::kBFloat16).to(at::kFloat);
          at::Tensor init = kmeans_init(x, clusters, 9, KMeansInit::RandomTokens);  // before the outliers
          at::Tensor rows = at::arange(0, 640, 16);
          if (std::isinf(outlier)) {
            x.index_put_({at::indexing::Slice(), rows, 0}, outlier);
          } else {
            x.index_put_({at::indexing::Slice(), rows}, x.index({at::indexing::Slice(), rows}) * outlier);
          }
          KMeansResult r = kmeans(x.to(at::kBFloat16).to(cuda), init.to(cuda), 1);
          at::Tensor labels = r.labels.cpu();
          ASSERT_GE(labels.min().item<int64_t>(), 0);
          ASSERT_LT(labels.max().item<int64_t>(), clusters);
          at::Tensor regular = at::ones({640}, at::kBool).index_put_({rows}, false);
          at::Tensor x64 = x.to(at::kBFloat16).to(at::kDouble).index({at::indexing::Slice(), regular});  // [2, 600, d]
          at::Tensor c64 = init.to(at::kBFloat16).to(at::kDouble);
          at::Tensor distances = (x64.unsqueeze(2) - c64.unsqueeze(1)).square().sum(-1);  // [2, 600, K]
          at::Tensor chosen_labels = labels.index({at::indexing::Slice(), regular});
          at::Tensor chosen = distances.gather(2, chosen_labels.unsqueeze(-1)).squeeze(-1);
          auto [nearest, nearest_label] = distances.min(2);
          at::Tensor scale = x64.square().sum(-1) + c64.square().sum(-1).gather(1, nearest_label);
          EXPECT_LE(((chosen - nearest) / scale).max().item<double>(), 1e-5);
        }
      }
    }
  });
}

// The update at 8 warps per cluster (N / K = 512) with empty clusters among them: the second copy
// of each initial centroid never wins a token (ties go to the lower index), so it is empty and keeps
// its centroid, and every other centroid is the fp64 mean of its tokens.
TEST(KMeans, CudaUpdateWithManyWarpsPerClusterKeepsEmptyClusters) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda(at::kCUDA, 0);
  const int64_t bh = 2, tokens = 4096, head_dim = 128;
  at::Tensor x = test::gaussian_mixture(bh, tokens, head_dim, 4, 4.0, 29).to(at::kBFloat16);
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor init = kmeans_init(xf, 4, 9, KMeansInit::RandomTokens).repeat({1, 2, 1});  // [BH, 8, d]
  on_each_kernel_path([&] {
    KMeansResult r = kmeans(x.to(cuda), init.to(cuda), 1);
    at::Tensor sizes = r.sizes.cpu(), centroids = r.centroids.cpu(), labels = r.labels.cpu();
    EXPECT_EQ(sizes.narrow(1, 4, 4).sum().item<int64_t>(), 0);
    EXPECT_EQ(sizes.sum().item<int64_t>(), bh * tokens);
    EXPECT_TRUE(at::equal(centroids.narrow(1, 4, 4), init.narrow(1, 4, 4)));
    at::Tensor index = labels.unsqueeze(-1).expand({bh, tokens, head_dim});
    at::Tensor sums = at::zeros({bh, 8, head_dim}, at::kDouble).scatter_add_(1, index, xf.to(at::kDouble));
    at::Tensor means = sums / sizes.clamp_min(1).unsqueeze(-1).to(at::kDouble);
    EXPECT_TRUE(test::tensors_close(centroids.narrow(1, 0, 4).to(at::kDouble), means.narrow(1, 0, 4), 1e-5));
  });
}

// kmeans_pair gives the bits of two kmeans calls, on every device. On a GPU its first problem runs
// on a side stream, and the test makes both event edges matter: that problem's input is written
// by the current stream behind a queue of slow work (without the fork the side stream would read
// it unwritten), and it is the larger problem, read right after the call (without the join the
// comparison would run before it finished).
TEST(KMeans, PairGivesTheResultsOfTwoCalls) {
  for (const at::Device device : devices()) {
    SCOPED_TRACE(device.str());
    const bool cuda = device.is_cuda();
    const at::ScalarType dtype = cuda ? at::kBFloat16 : at::kFloat;
    at::Tensor big = test::gaussian_mixture(3, cuda ? 20000 : 2049, 128, 60, 4.0, 32).to(dtype).to(device);
    at::Tensor small = test::gaussian_mixture(3, 2049, 128, 24, 4.0, 31).to(dtype).to(device);
    at::Tensor big_init = kmeans_init(big, cuda ? 1000 : 300, 4, KMeansInit::RandomTokens);
    at::Tensor small_init = kmeans_init(small, 40, 3, KMeansInit::RandomTokens);
    for (const int iterations : {1, 2}) {
      const KMeansResult big_alone = kmeans(big, big_init, iterations, KMeansPoints::InClusterOrder);
      const KMeansResult small_alone = kmeans(small, small_init, iterations, KMeansPoints::InClusterOrder);
      const at::Tensor big_late = big + test::zero_after_slow_work(device, dtype);
      const KMeansPair pair = kmeans_pair(big_late, big_init, small, small_init, iterations, KMeansPoints::InClusterOrder);
      for (const auto& [got, want] : {std::pair{&pair.first, &big_alone}, std::pair{&pair.second, &small_alone}}) {
        EXPECT_TRUE(at::equal(got->labels, want->labels));
        EXPECT_TRUE(at::equal(got->centroids, want->centroids));
        EXPECT_TRUE(at::equal(got->sizes, want->sizes));
        EXPECT_TRUE(at::equal(got->layout.order, want->layout.order));
        EXPECT_TRUE(at::equal(got->layout.offsets, want->layout.offsets));
        EXPECT_TRUE(at::equal(got->points, want->points));
      }
      if (cuda) {  // on the CPU the points are that gather
        EXPECT_TRUE(at::equal(small_alone.points, gather_tokens(small, small_alone.layout.order)));
      }
    }
  }
  EXPECT_THROW(kmeans_pair(at::randn({2, 10, 4}), at::randn({2, 3, 4}), at::randn({2, 10, 4}), at::randn({2, 3, 5}), 1),
               c10::Error);
}

// On a GPU, a pair whose second problem the kernels do not take (float32 tokens: the reference)
// runs each side as its own call would; and tokens with strides (a [B, H, N, d] → [BH, N, d] view
// of tokens-first storage) cluster like their contiguous copy, bit for bit.
TEST(KMeans, CudaPairWithOneSideOnTheReferenceAndStridedTokens) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda(at::kCUDA, 0);
  const at::Tensor on_kernel = test::gaussian_mixture(2, 3000, 128, 30, 4.0, 33).to(at::kBFloat16).to(cuda);
  const at::Tensor on_reference = test::gaussian_mixture(2, 1000, 64, 12, 4.0, 34).to(cuda);
  const at::Tensor kernel_init = kmeans_init(on_kernel, 200, 5, KMeansInit::RandomTokens);
  const at::Tensor reference_init = kmeans_init(on_reference, 20, 6, KMeansInit::RandomTokens);
  // One iteration: the reference side's labels then depend on the initial centroids alone, not on
  // its centroid sums, which on CUDA add with atomics in no fixed order.
  const KMeansPair pair = kmeans_pair(on_kernel, kernel_init, on_reference, reference_init, 1, KMeansPoints::InClusterOrder);
  const KMeansResult first = kmeans(on_kernel, kernel_init, 1, KMeansPoints::InClusterOrder);
  const KMeansResult second = kmeans(on_reference, reference_init, 1, KMeansPoints::InClusterOrder);
  for (const auto& [got, want] : {std::pair{&pair.first, &first}, std::pair{&pair.second, &second}}) {
    EXPECT_TRUE(got->labels.is_cuda());
    EXPECT_TRUE(at::equal(got->labels, want->labels));
    EXPECT_TRUE(at::equal(got->sizes, want->sizes));
    EXPECT_TRUE(at::equal(got->layout.order, want->layout.order));
    EXPECT_TRUE(at::equal(got->layout.offsets, want->layout.offsets));
    EXPECT_TRUE(at::equal(got->points, want->points));
  }
  EXPECT_TRUE(at::equal(pair.first.centroids, first.centroids));
  EXPECT_TRUE(test::tensors_close(pair.second.centroids, second.centroids, 1e-6));

  const at::Tensor strided = on_kernel.transpose(0, 1).contiguous().transpose(0, 1);
  ASSERT_FALSE(strided.is_contiguous());
  const KMeansResult from_strided = kmeans(strided, kernel_init, 1, KMeansPoints::InClusterOrder);
  EXPECT_TRUE(at::equal(from_strided.labels, first.labels));
  EXPECT_TRUE(at::equal(from_strided.centroids, first.centroids));
  EXPECT_TRUE(at::equal(from_strided.points, first.points));
}

TEST(KMeans, RejectsBadArguments) {
  at::manual_seed(5);
  at::Tensor x = at::randn({2, 10, 4});
  at::Tensor init = at::randn({2, 3, 4});
  EXPECT_THROW(kmeans(x.view({20, 4}), init, 1), c10::Error);
  EXPECT_THROW(kmeans(x, at::randn({2, 3, 5}), 1), c10::Error);
  EXPECT_THROW(kmeans(x, init.to(at::kDouble), 1), c10::Error);
  EXPECT_THROW(kmeans(x, init, 0), c10::Error);
  EXPECT_THROW(kmeans(x.to(at::kInt), init, 1), c10::Error);
  try {
    kmeans(at::randn({2, 0, 4}), init, 1);
    ADD_FAILURE() << "no tokens accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("kmeans: x needs at least one token"), std::string::npos) << e.what();
  }
  EXPECT_THROW(kmeans_init(x, 0, 1, KMeansInit::RandomTokens), c10::Error);
  EXPECT_THROW(kmeans_init(x, 3, 1, KMeansInit::Unset), c10::Error);
}

// The evidence behind the backends' KMeansInit::KMeansPlusPlus (kmeans.h, docs/attention-notes.md):
// final inertia and empty clusters after 2 and 50 iterations on clustered data, several seeds, both
// inits. k-means++ costs K sequential passes; it must buy a clear gain to be worth that.
TEST(KMeans, InitChoiceEvidence) {
  const int64_t rows = 4, n = 2999, d = 32, k = 64, components = 40;
  double sum[3][2] = {{0, 0}, {0, 0}, {0, 0}};
  int64_t empty[3][2] = {{0, 0}, {0, 0}, {0, 0}};
  double init_ms[3] = {0, 0, 0};
  const KMeansInit methods[3] = {KMeansInit::RandomTokens, KMeansInit::KMeansPlusPlus,
                                 KMeansInit::KMeansPlusPlusRounds};
  const int seeds = 5;
  for (int seed = 0; seed < seeds; ++seed) {
    at::Tensor x = test::gaussian_mixture(rows, n, d, components, 3.0, 100 + seed);
    for (int m = 0; m < 3; ++m) {
      const auto start = std::chrono::steady_clock::now();
      at::Tensor init = kmeans_init(x, k, seed, methods[m]);
      init_ms[m] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      for (int i = 0; i < 2; ++i) {
        KMeansResult r = kmeans(x, init, i == 0 ? 2 : 50);
        sum[m][i] += inertia(x, r) / seeds;
        empty[m][i] += (r.sizes == 0).sum().item<int64_t>();
      }
    }
  }
  std::printf("init          inertia@2  inertia@50  empty@2  empty@50  init ms  (%d seeds x %ld heads)\n", seeds,
              long(rows));
  const char* names[3] = {"random tokens", "k-means++    ", "k-means++ x16"};
  for (int m = 0; m < 3; ++m) {
    std::printf("%s %9.3f  %10.3f  %7ld  %8ld  %7.1f\n", names[m], sum[m][0], sum[m][1], long(empty[m][0]),
                long(empty[m][1]), init_ms[m]);
  }
  EXPECT_LT(sum[1][0], 0.9 * sum[0][0]);
  EXPECT_LT(sum[1][1], 0.9 * sum[0][1]);
  // The backends' init: k-means++ in 16 rounds, within 5% of k-means++ and far better than random.
  EXPECT_LT(sum[2][0], 1.05 * sum[1][0]);
  EXPECT_LT(sum[2][0], 0.9 * sum[0][0]);
  EXPECT_LT(sum[2][1], 1.05 * sum[1][1]);
}

}  // namespace
}  // namespace svgear
