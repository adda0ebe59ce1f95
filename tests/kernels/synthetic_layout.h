#pragma once
// Synthetic cluster layouts for the SVG2 / SVG-EAR op tests, built the way the engine builds them
// (labels → stable argsort → offsets), so the tests do not depend on the k-means and permutation ops.

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace svgear::test {

struct SyntheticLayout {
  at::Tensor labels;   // [BH, N] int64: the cluster of each token, in the original order
  at::Tensor order;    // [BH, N] int64: stable argsort of labels; permuted row r holds token order[r]
  at::Tensor sizes;    // [BH, C] int64
  at::Tensor offsets;  // [BH, C+1] int64: cluster c owns permuted rows [offsets[c], offsets[c+1])
};

// Random labels on the CPU (seeded by the caller's at::manual_seed) in which, for head h, cluster
// h % C is empty and cluster (h + 1) % C holds exactly one token; with C > N many more are empty.
// Needs C >= 3 and N >= 2.
SyntheticLayout random_layout(int64_t bh, int64_t tokens, int64_t clusters);

// Labels on the CPU in which head h's cluster c holds exactly sizes[(c + h) % C] tokens (C =
// sizes.size(), N = their sum), the tokens shuffled (seeded by the caller's at::manual_seed).
SyntheticLayout layout_of_sizes(int64_t bh, const std::vector<int64_t>& sizes);

// x [BH, N, d] with its rows in permuted order: row r of the result is x[:, order[r]].
at::Tensor permute_rows(const at::Tensor& x, const at::Tensor& order);

// Mean of x [BH, N, d] over each cluster of the layout (original order), float32 [BH, C, d]; empty
// clusters take the row of `fill` [BH, C, d] (k-means keeps an empty cluster's old centroid; v̄ is 0).
at::Tensor cluster_means(const at::Tensor& x, const SyntheticLayout& layout, const at::Tensor& fill);

}  // namespace svgear::test
