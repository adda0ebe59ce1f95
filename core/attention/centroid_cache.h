#pragma once
// CentroidCache: k-means centroids of Q and K kept between denoising steps, so later steps
// warm-start k-means with a few iterations instead of 50 from scratch [spec §2.2; P2 page: 76×].
//
// Keyed by (layer, CFG branch). The reference keeps one cache per layer, so with two batch-1 CFG
// calls per step each branch warm-starts from the *other* branch's centroids (spec P4). We keep one
// entry per branch: the cond and uncond Q/K distributions differ (different cross-attention
// context), and a branch's own previous centroids are the better start. A branch's first call
// after the other branch's call of the same layer and step warm-starts from that branch's fresh
// centroids, as the reference's second call of its first sparse step does: the uncond branch
// skips the k-means++ init and the 50 iterations, half of the first sparse step's extra cost
// (docs/attention-notes.md). Centroids are float32.
//
// A warm call updates its entry in place, so a CUDA graph that captured it advances the cache on
// each replay; such a graph is valid only while the entry lives (clear(), a new generation, or a
// cold call or a call started from the sibling for the key, replace it).
//
// Not thread-safe: one backend instance serves one generation at a time.

#include <cstdint>
#include <map>
#include <utility>

#include <ATen/core/Tensor.h>

#include "core/attention/attention_backend.h"
#include "kernels/kmeans/kmeans.h"

namespace svgear {

struct CentroidCacheOptions {
  int64_t q_clusters = 0;
  int64_t k_clusters = 0;
  int init_iters = 0;  // first call per key, from kmeans_init
  int step_iters = 0;  // later calls, warm-started
  KMeansInit init = KMeansInit::Unset;
};

struct ClusteredQK {
  KMeansResult q;  // labels [BH, N], centroids [BH, Qc, d], sizes [BH, Qc], layout (order, offsets), points
  KMeansResult k;  // labels [BH, N], centroids [BH, Kc, d], sizes [BH, Kc], layout (order, offsets), points
};

class CentroidCache {
 public:
  explicit CentroidCache(const CentroidCacheOptions& options);

  // Clusters q and k ([BH, N, d] each) for the call at (layer, branch, step) and stores the new
  // centroids. A key seen before at an earlier step warm-starts with step_iters; so does a new key
  // whose sibling (layer, other branch) was clustered at this same step, from the sibling's
  // centroids; otherwise (or when the cached centroids no longer fit: other BH, d or device)
  // kmeans_init + init_iters.
  // A call whose step is not after its key's cached step starts a new generation: the whole cache
  // is cleared first, so nothing leaks from one generation into the next. `points` as in kmeans:
  // InClusterOrder also returns q and k permuted by their layouts. `cancel`, when given, is looked
  // at between the k-means iterations that run on the CPU.
  ClusteredQK cluster(const at::Tensor& q, const at::Tensor& k, int layer, CfgBranch branch, int step,
                      KMeansPoints points = KMeansPoints::Skip, const CancelToken* cancel = nullptr);

  void clear() { entries_.clear(); }
  // Takes over `other`'s entries, steps included, replacing this cache's; `other` is left empty.
  // Wan2.2-A14B's low-noise expert continues from the high-noise expert's centroids at the switch.
  void take_entries_from(CentroidCache& other) {
    entries_ = std::move(other.entries_);
    other.entries_.clear();
  }
  bool contains(int layer, CfgBranch branch) const { return entries_.count({layer, branch}) != 0; }

 private:
  struct Entry {
    at::Tensor q_centroids;  // [BH, Qc, d] float32
    at::Tensor k_centroids;  // [BH, Kc, d] float32
    int step = 0;
  };

  CentroidCacheOptions options_;
  std::map<std::pair<int, CfgBranch>, Entry> entries_;
};

}  // namespace svgear
