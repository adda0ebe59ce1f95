#pragma once
// cluster_permutation: makes every k-means cluster a contiguous token range [spec §2.3, §2.7, §3.1].
//
//   cluster_layout(labels [BH, N] int64 in [0, K), K): a stable sort by label per row.
//       order   [BH, N]   int64: permuted position r holds original token order[r]
//       offsets [BH, K+1] int64: cluster c occupies [offsets[c], offsets[c+1]); empty clusters have
//                                offsets[c] == offsets[c+1]
//   gather_tokens(x [BH, N, d], order) → xp [BH, N, d], xp[b, r] = x[b, order[b, r]], x's dtype
//   scatter_tokens(xp, order) → x, the inverse of gather_tokens
//   cluster_means(xp [BH, N, d], offsets) → [BH, K, d] float32 means of each range (float32 sums),
//       0 for empty clusters (v̄, spec §3.1)
//   gather_tokens_and_means(x, layout) → {gather_tokens(x, layout.order), cluster_means of that}:
//       SVG-EAR's values, in one read of x on CUDA. The layout must be whole (offsets from 0 to N,
//       as cluster_layout and kmeans give): on CUDA a row outside every range is not written.
//
// CPU and CUDA tensors; everything is exact except the means (float32 sums, order of
// accumulation differs between devices: ~1e-6 relative). On CUDA, gathers and scatters of rows of a
// multiple of 16 bytes and cluster_means / gather_tokens_and_means of bf16 / fp16 rows of d = 8, 16,
// 32, 64, 128 or 256 run cluster_permutation_cuda.cu (whole rows by 16-byte words; one warp per
// cluster); the rest runs the ATen reference.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace svgear {

struct ClusterLayout {
  at::Tensor order;    // [BH, N] int64: permuted position r holds original token order[r] (stable sort by label)
  at::Tensor offsets;  // [BH, K+1] int64: cluster c occupies [offsets[c], offsets[c+1]) after permutation
};

ClusterLayout cluster_layout(const at::Tensor& labels, int64_t num_clusters);
at::Tensor gather_tokens(const at::Tensor& x, const at::Tensor& order);     // [BH, N, d] → permuted
at::Tensor scatter_tokens(const at::Tensor& xp, const at::Tensor& order);   // inverse of gather_tokens
at::Tensor cluster_means(const at::Tensor& xp, const at::Tensor& offsets);  // [BH, K, d] float32, 0 for empty clusters

struct GatheredMeans {
  at::Tensor xp;     // [BH, N, d] x permuted by the layout, x's dtype
  at::Tensor means;  // [BH, K, d] float32, 0 for empty clusters
};
GatheredMeans gather_tokens_and_means(const at::Tensor& x, const ClusterLayout& layout);

// The ATen reference, one implementation for CPU and CUDA tensors; call the functions above, which
// validate.
ClusterLayout cluster_layout_reference(const at::Tensor& labels, int64_t num_clusters);
at::Tensor gather_tokens_reference(const at::Tensor& x, const at::Tensor& order);
at::Tensor scatter_tokens_reference(const at::Tensor& xp, const at::Tensor& order);
at::Tensor cluster_means_reference(const at::Tensor& xp, const at::Tensor& offsets);

}  // namespace svgear
