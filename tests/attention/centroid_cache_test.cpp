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

TEST(CentroidCache, PerBranchEntriesWarmStartAndNewGenerationClears) {
  at::Tensor q = test::gaussian_mixture(2, 211, 8, 5, 4.0, 1);
  at::Tensor k = test::gaussian_mixture(2, 211, 8, 9, 4.0, 2);
  CentroidCache cache(small_options());
  ClusteredQK first = cache.cluster(q, k, 3, CfgBranch::Cond, 4);
  EXPECT_TRUE(cache.contains(3, CfgBranch::Cond));
  EXPECT_FALSE(cache.contains(3, CfgBranch::Uncond));  // per-branch caches (spec P4)
  EXPECT_EQ(first.q.centroids.sizes(), at::IntArrayRef({2, 5, 8}));
  EXPECT_EQ(first.k.centroids.sizes(), at::IntArrayRef({2, 9, 8}));

  // A later step starts from the converged centroids: one more iteration changes nothing.
  ClusteredQK warm = cache.cluster(q, k, 3, CfgBranch::Cond, 5);
  EXPECT_TRUE(at::equal(warm.q.labels, first.q.labels));
  EXPECT_TRUE(at::equal(warm.k.labels, first.k.labels));

  // Step 4 again (not after 5) is a new generation: it clusters from scratch like a fresh cache.
  cache.cluster(q, k, 7, CfgBranch::Uncond, 5);
  ClusteredQK again = cache.cluster(q, k, 3, CfgBranch::Cond, 4);
  EXPECT_FALSE(cache.contains(7, CfgBranch::Uncond));
  CentroidCache fresh(small_options());
  ClusteredQK expected = fresh.cluster(q, k, 3, CfgBranch::Cond, 4);
  EXPECT_TRUE(at::equal(again.q.centroids, expected.q.centroids));
  EXPECT_TRUE(at::equal(again.k.centroids, expected.k.centroids));
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
