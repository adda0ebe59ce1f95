#include "core/attention/centroid_cache.h"

#include <algorithm>
#include <utility>

#include <ATen/ATen.h>

namespace svgear {
namespace {

bool fits(const at::Tensor& centroids, const at::Tensor& x, int64_t clusters) {
  return centroids.defined() && centroids.device() == x.device() && centroids.size(0) == x.size(0) &&
         centroids.size(1) == clusters && centroids.size(2) == x.size(2);
}

// Distinct, fixed seeds per (layer, branch, q|k): the same request clusters the same way every run.
uint64_t init_seed(int layer, CfgBranch branch, int which) {
  return (uint64_t(layer) << 8) | (uint64_t(branch) << 1) | uint64_t(which);
}

}  // namespace

// Options are checked where they are used (kmeans_init, kmeans), so that a backend built from a bad
// config can still answer supports() with a reason.
CentroidCache::CentroidCache(const CentroidCacheOptions& options) : options_(options) {}

ClusteredQK CentroidCache::cluster(const at::Tensor& q, const at::Tensor& k, int layer,
                                   CfgBranch branch, int step, KMeansPoints points, const CancelToken* cancel) {
  auto it = entries_.find({layer, branch});
  if (it != entries_.end() && step <= it->second.step) {
    clear();
    it = entries_.end();
  }
  // No more clusters than tokens, for every caller (GenerationRequest::resolve clamps a generation's
  // request the same way, so its record says what ran): more would be empty clusters at best and a
  // k-means of their size.
  const int64_t q_clusters = std::min(options_.q_clusters, q.size(1));
  const int64_t k_clusters = std::min(options_.k_clusters, k.size(1));
  const auto entry_fits = [&](const Entry& e) {
    return fits(e.q_centroids, q, q_clusters) && fits(e.k_centroids, k, k_clusters);
  };
  const bool warm = it != entries_.end() && entry_fits(it->second);
  const Entry* sibling = nullptr;  // read only: its own branch updates it in place later
  if (!warm && (branch == CfgBranch::Cond || branch == CfgBranch::Uncond)) {
    auto other = entries_.find({layer, branch == CfgBranch::Cond ? CfgBranch::Uncond : CfgBranch::Cond});
    if (other != entries_.end() && other->second.step == step && entry_fits(other->second)) sibling = &other->second;
  }
  const Entry* start = warm ? &it->second : sibling;
  at::Tensor q_init = start ? start->q_centroids
                            : kmeans_init(q, q_clusters, init_seed(layer, branch, 0), options_.init);
  at::Tensor k_init = start ? start->k_centroids
                            : kmeans_init(k, k_clusters, init_seed(layer, branch, 1), options_.init);
  const int iterations = start ? options_.step_iters : options_.init_iters;
  const BetweenIterations between = cancel ? BetweenIterations([cancel] { cancel->throw_if_cancelled(); })
                                           : BetweenIterations();
  KMeansPair pair = kmeans_pair(q, q_init, k, k_init, iterations, points, between);
  ClusteredQK result{std::move(pair.first), std::move(pair.second)};
  if (warm) {
    // In place: a CUDA graph that captured this call reads and writes these same buffers, so each
    // replay warm-starts from the one before, as eager calls do.
    it->second.q_centroids.copy_(result.q.centroids);
    it->second.k_centroids.copy_(result.k.centroids);
    it->second.step = step;
  } else {
    // Copies: the entry is written in place by later calls, the caller keeps what it was given.
    entries_[{layer, branch}] = Entry{result.q.centroids.clone(), result.k.centroids.clone(), step};
  }
  return result;
}

}  // namespace svgear
