#include "core/attention/centroid_cache.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/attention/clustered_qkv.h"

namespace svgear {
namespace {

CentroidCacheOptions small_options() {
  CentroidCacheOptions options;
  options.q_clusters = 5;
  options.k_clusters = 9;
  options.init_iters = 50;
  options.step_iters = 1;
  options.init = KMeansInit::RandomTokens;
  return options;
}

// One init iteration and other q / k at the later step, so that where k-means starts shows: from
// converged centroids a cold start and a warm one would give the same clusters.
TEST(CentroidCache, PerBranchEntriesWarmStartAndNewGenerationClears) {
  CentroidCacheOptions options = small_options();
  options.init_iters = 1;
  at::Tensor q = test::gaussian_mixture(2, 211, 8, 5, 4.0, 1);
  at::Tensor k = test::gaussian_mixture(2, 211, 8, 9, 4.0, 2);
  at::Tensor q_next = test::gaussian_mixture(2, 211, 8, 5, 4.0, 5);
  at::Tensor k_next = test::gaussian_mixture(2, 211, 8, 9, 4.0, 6);
  CentroidCache cache(options);
  ClusteredQK first = cache.cluster(q, k, 3, CfgBranch::Cond, 4);
  EXPECT_TRUE(cache.contains(3, CfgBranch::Cond));
  EXPECT_FALSE(cache.contains(3, CfgBranch::Uncond));  // per-branch caches (spec P4)
  EXPECT_EQ(first.q.centroids.sizes(), at::IntArrayRef({2, 5, 8}));
  EXPECT_EQ(first.k.centroids.sizes(), at::IntArrayRef({2, 9, 8}));

  // A later step continues from the cached centroids with step_iters.
  ClusteredQK warm = cache.cluster(q_next, k_next, 3, CfgBranch::Cond, 5);
  const KMeansResult q_continued = kmeans(q_next, first.q.centroids, options.step_iters);
  const KMeansResult k_continued = kmeans(k_next, first.k.centroids, options.step_iters);
  EXPECT_TRUE(at::equal(warm.q.labels, q_continued.labels));
  EXPECT_TRUE(at::equal(warm.q.centroids, q_continued.centroids));
  EXPECT_TRUE(at::equal(warm.k.labels, k_continued.labels));
  EXPECT_TRUE(at::equal(warm.k.centroids, k_continued.centroids));
  const ClusteredQK cold = CentroidCache(options).cluster(q_next, k_next, 3, CfgBranch::Cond, 5);
  EXPECT_FALSE(at::equal(warm.q.centroids, cold.q.centroids)) << "a cold start must end elsewhere";
  EXPECT_FALSE(at::equal(warm.k.centroids, cold.k.centroids)) << "a cold start must end elsewhere";

  // Step 4 again (not after 5) is a new generation: the whole cache is cleared and the call
  // clusters from scratch like a fresh cache, not from step 5's centroids.
  cache.cluster(q, k, 7, CfgBranch::Uncond, 5);
  ClusteredQK again = cache.cluster(q_next, k_next, 3, CfgBranch::Cond, 4);
  EXPECT_FALSE(cache.contains(7, CfgBranch::Uncond));
  EXPECT_TRUE(cache.contains(3, CfgBranch::Cond));
  ClusteredQK expected = CentroidCache(options).cluster(q_next, k_next, 3, CfgBranch::Cond, 4);
  EXPECT_TRUE(at::equal(again.q.labels, expected.q.labels));
  EXPECT_TRUE(at::equal(again.q.centroids, expected.q.centroids));
  EXPECT_TRUE(at::equal(again.k.labels, expected.k.labels));
  EXPECT_TRUE(at::equal(again.k.centroids, expected.k.centroids));
  EXPECT_FALSE(at::equal(again.k.centroids, kmeans(k_next, warm.k.centroids, options.step_iters).centroids))
      << "a warm start from step 5 must end elsewhere for this check to mean anything";
}

// A cancel reaches the CPU k-means between its iterations: a preset's 1000 iterations had held a
// Ctrl-C for over a minute. The token is looked at before every iteration but the first.
TEST(CentroidCache, ACancelStopsTheKMeansBetweenIterations) {
  at::Tensor q = test::gaussian_mixture(2, 211, 8, 5, 4.0, 1);
  at::Tensor k = test::gaussian_mixture(2, 211, 8, 9, 4.0, 2);
  CancelToken cancel;
  cancel.cancel();
  EXPECT_THROW(CentroidCache(small_options()).cluster(q, k, 0, CfgBranch::Cond, 1, KMeansPoints::Skip, &cancel),
               Cancelled);
  int looked = 0;
  const KMeansResult counted = kmeans(q, kmeans_init(q, 5, 1, KMeansInit::RandomTokens), 6, KMeansPoints::Skip,
                                      [&] { ++looked; });
  EXPECT_EQ(looked, 5);
  EXPECT_TRUE(at::equal(counted.labels, kmeans(q, kmeans_init(q, 5, 1, KMeansInit::RandomTokens), 6).labels));
}

// More clusters than tokens would only be empty ones (and a k-means of their size): a clip of 7
// tokens gets at most 7 clusters.
TEST(CentroidCache, NoMoreClustersThanTokens) {
  CentroidCacheOptions options = small_options();
  options.q_clusters = 100000;
  options.k_clusters = 9;
  at::Tensor q = test::gaussian_mixture(2, 7, 8, 3, 4.0, 1);
  at::Tensor k = test::gaussian_mixture(2, 7, 8, 3, 4.0, 2);
  CentroidCache cache(options);
  ClusteredQK first = cache.cluster(q, k, 0, CfgBranch::Cond, 1);
  EXPECT_EQ(first.q.centroids.sizes(), at::IntArrayRef({2, 7, 8}));
  EXPECT_EQ(first.k.centroids.sizes(), at::IntArrayRef({2, 7, 8}));
  EXPECT_EQ(first.q.sizes.sum().item<int64_t>(), 2 * 7);
  ClusteredQK next = cache.cluster(q, k, 0, CfgBranch::Cond, 2);
  EXPECT_EQ(next.q.centroids.sizes(), at::IntArrayRef({2, 7, 8}));
}

// The reference's one cache per layer gives the second CFG call of a first sparse step the first
// call's fresh centroids and step iterations (spec P4); a branch without its own entry does the same.
TEST(CentroidCache, AFirstCallStartsFromItsSiblingBranchOfTheSameStep) {
  const CentroidCacheOptions options = small_options();
  at::Tensor q = test::gaussian_mixture(2, 211, 8, 5, 4.0, 1);
  at::Tensor k = test::gaussian_mixture(2, 211, 8, 9, 4.0, 2);
  at::Tensor q_uncond = test::gaussian_mixture(2, 211, 8, 5, 4.0, 3);
  at::Tensor k_uncond = test::gaussian_mixture(2, 211, 8, 9, 4.0, 4);
  CentroidCache cache(options);
  ClusteredQK cond = cache.cluster(q, k, 3, CfgBranch::Cond, 4);
  ClusteredQK uncond = cache.cluster(q_uncond, k_uncond, 3, CfgBranch::Uncond, 4);
  KMeansResult q_expected = kmeans(q_uncond, cond.q.centroids, options.step_iters);
  KMeansResult k_expected = kmeans(k_uncond, cond.k.centroids, options.step_iters);
  EXPECT_TRUE(at::equal(uncond.q.labels, q_expected.labels));
  EXPECT_TRUE(at::equal(uncond.q.centroids, q_expected.centroids));
  EXPECT_TRUE(at::equal(uncond.k.labels, k_expected.labels));
  EXPECT_TRUE(at::equal(uncond.k.centroids, k_expected.centroids));
  // Not what a cold start gives: kmeans_init and 50 iterations end elsewhere on these data.
  ClusteredQK cold = CentroidCache(options).cluster(q_uncond, k_uncond, 3, CfgBranch::Uncond, 4);
  EXPECT_FALSE(at::equal(uncond.k.centroids, cold.k.centroids));

  // The sibling's entry was only read: its next step warm-starts from its own centroids.
  ClusteredQK cond_next = cache.cluster(q, k, 3, CfgBranch::Cond, 5);
  EXPECT_TRUE(at::equal(cond_next.k.centroids, kmeans(k, cond.k.centroids, options.step_iters).centroids));

  // A sibling from an earlier step is another point of the generation: a cold start, as before.
  cache.cluster(q, k, 5, CfgBranch::Cond, 5);
  ClusteredQK later = cache.cluster(q_uncond, k_uncond, 5, CfgBranch::Uncond, 6);
  ClusteredQK later_cold = CentroidCache(options).cluster(q_uncond, k_uncond, 5, CfgBranch::Uncond, 6);
  EXPECT_TRUE(at::equal(later.k.centroids, later_cold.k.centroids));
  EXPECT_TRUE(at::equal(later.q.centroids, later_cold.q.centroids));
}

TEST(CentroidCache, ReinitialisesWhenTheShapeChanges) {
  CentroidCache cache(small_options());
  cache.cluster(test::gaussian_mixture(2, 100, 8, 5, 4.0, 3), test::gaussian_mixture(2, 100, 8, 5, 4.0, 4), 1,
                CfgBranch::Cond, 0);
  // Other head count: the cached centroids do not fit, so this is an init, not a shape error.
  ClusteredQK r = cache.cluster(test::gaussian_mixture(3, 100, 8, 5, 4.0, 5),
                                test::gaussian_mixture(3, 100, 8, 5, 4.0, 6), 1, CfgBranch::Cond, 1);
  EXPECT_EQ(r.q.labels.sizes(), at::IntArrayRef({3, 100}));
}

}  // namespace
}  // namespace svgear
