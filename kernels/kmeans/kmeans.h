#pragma once
// kmeans: batched Lloyd k-means, one independent problem per (batch, head) row [spec §2.2].
//
//   x:              [BH, N, d], any floating dtype, CPU or CUDA. Clustered as a contiguous float32
//                   copy (spec P2: strided [B, H, N, d] views broke an old centroid kernel).
//   init_centroids: [BH, K, d] float32 on x's device (kmeans_init, or the previous call's centroids).
//   iterations:     >= 1 fixed Lloyd iterations (assign, then update). No early stop: the reference
//                   code's shift < tol test is a host sync per iteration (spec P1).
//   points:         KMeansPoints::InClusterOrder also returns x permuted by the layout.
//   returns labels [BH, N] int64 (the last assignment), centroids [BH, K, d] float32 (the means of
//   that assignment; an empty cluster keeps its previous centroid), sizes [BH, K] int64, and the
//   layout of the labels (cluster_layout's order and offsets).
//
// Assignment is argmin_c (||c||² − 2 x·c) (||x||² is constant per token); ties go to the lower
// cluster index. Devices:
//   * CUDA, x bf16 or fp16, d 64 or 128, K ≤ 16384: kmeans_cuda.cu — tensor-core assignment (x·c of
//     x and the centroids rounded to x's dtype, fp32 sums; the N × K distances never materialise), a
//     stable counting sort by cluster and segmented fp32 sums for the update (deterministic, no
//     atomics), no host sync. Labels differ from the fp32 reference only where two centroids are
//     nearly equally near (the rounding of c moves distances by ~2^-8 relative). On sm_90 GPUs of an sm_90a build
//     the assignment runs on wgmma (same labels), elsewhere, or with KernelPath::Portable
//     (kernels/common/kernel_path.h), on mma.sync.
//   * otherwise the ATen reference in float32: CPU and CUDA agree exactly on labels except for
//     near-ties (different GEMM summation order), and on centroids to float32 rounding.

#include <cstdint>
#include <functional>

#include <ATen/core/Tensor.h>

#include "kernels/cluster_permutation/cluster_permutation.h"

namespace svgear {

enum class KMeansInit {
  Unset,
  // K distinct tokens per head, uniformly at random (the reference draws with replacement, which
  // duplicates centroids: spec P2).
  RandomTokens,
  // k-means++ D² sampling (Arthur & Vassilvitskii 2007): on Gaussian-mixture data (4 heads × 2999
  // tokens, d = 32, 40 components with Zipf weights, K = 64, 5 seeds; KMeans.InitChoiceEvidence) it
  // ends with mean inertia 33.3 vs 47.2 after 2 iterations and 32.1 vs 41.3 after 50, and 0 / 2
  // empty clusters vs 10 / 11 of 1280. Warm-started steps run only 2 iterations, so a poor start is
  // never repaired. It costs K sequential passes over the tokens.
  KMeansPlusPlus,
  // The same D² sampling in 16 rounds (the first centre, then a share of the rest per round, drawn
  // together without replacement): 16 passes instead of K, inertia 34.5 / 33.1 on the data above.
  // The backends use it: the cold start of every sparse (layer, branch) no longer costs K passes
  // (docs/attention-notes.md).
  KMeansPlusPlusRounds,
};

struct KMeansResult {
  at::Tensor labels;     // [BH, N] int64
  at::Tensor centroids;  // [BH, K, d] float32: means of the final assignment; empty clusters keep their previous centroid
  at::Tensor sizes;      // [BH, K] int64
  // cluster_layout(labels, K): the CUDA path takes it from its last sort instead of sorting again.
  ClusterLayout layout;
  // [BH, N, d] x's dtype, gather_tokens(x, layout.order), with KMeansPoints::InClusterOrder (else
  // undefined). The CUDA path writes it from the last update, which reads every row in that order
  // anyway: the sparse backends' permutation of Q and K without a pass of its own.
  at::Tensor points;
};

enum class KMeansPoints { Skip, InClusterOrder };

// Called on the host before each of the reference's iterations after the first: a CPU k-means of
// many iterations or tokens takes minutes, and this may throw to stop it (a cancelled generation).
// The CUDA kernels queue every iteration at once and never call it.
using BetweenIterations = std::function<void()>;

KMeansResult kmeans(const at::Tensor& x, const at::Tensor& init_centroids, int iterations,
                    KMeansPoints points = KMeansPoints::Skip, const BetweenIterations& between = {});

// Two independent k-means problems (a call's queries and keys), the same results as two kmeans
// calls. When both run on the CUDA kernels, the first runs on a side stream while the second runs
// on the current one: the queries' small passes (Qc = 200 leaves the GPU half idle) hide under the
// keys'. Fork and join are events, so the pair stays CUDA-graph-capturable and host-sync-free.
struct KMeansPair {
  KMeansResult first;
  KMeansResult second;
};
KMeansPair kmeans_pair(const at::Tensor& x_first, const at::Tensor& init_first, const at::Tensor& x_second,
                       const at::Tensor& init_second, int iterations, KMeansPoints points = KMeansPoints::Skip,
                       const BetweenIterations& between = {});

// Initial centroids [BH, K, d] float32 on x's device, from random numbers of a CPU generator seeded
// with `seed`, so every device starts from the same tokens. When K > N the first N centroids are the N tokens and
// the other K − N lie outside the data's bounding box: no token is ever nearer to them, so those
// clusters stay empty (size 0) and keep their centroids.
at::Tensor kmeans_init(const at::Tensor& x, int64_t k, uint64_t seed, KMeansInit method);

// The ATen reference, one implementation for CPU and CUDA tensors; call kmeans / kmeans_init, which
// validate. x_f32 is contiguous float32.
KMeansResult kmeans_reference(const at::Tensor& x_f32, const at::Tensor& init_centroids,
                              int iterations, const BetweenIterations& between = {});
at::Tensor kmeans_init_reference(const at::Tensor& x_f32, int64_t k, uint64_t seed,
                                 KMeansInit method);

}  // namespace svgear
