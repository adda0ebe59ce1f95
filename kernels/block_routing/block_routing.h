#pragma once
// block_routing: which (query cluster, key cluster) blocks are computed exactly.
//
// Shapes: centroid_logits and score [BH, Qc, Kc] f32 (from error_probe), q_sizes [BH, Qc] and k_sizes
// [BH, Kc] int64, all on one device (CPU or CUDA). Masks are bool [BH, Qc, Kc], true = exact.
// Every rule is row-wise (one query cluster), with no host loop and no host sync. Ties are broken by
// the lower cluster index (stable sorts). Empty key clusters (n_j = 0) are never selected.
// Exact up to fp32 rounding of the size-weighted softmax and the order of the fp64 prefix sums (a
// prefix within an ulp of top_p can fall either way between devices); top_p >= 1 keeps every
// cluster, as in exact arithmetic. Areas are int64 and compared exactly.
// Devices: CUDA tensors with Kc <= 2048 and BH·Qc < 2³¹ rows run a kernel (block_routing_cuda.cu:
// one CTA per row, sorts and prefix sums in shared memory; the probability prefix sum in fp64);
// everything else runs the ATen reference (sort, cumsum and scatter along the last dimension,
// vectorised over rows).

#include <ATen/core/Tensor.h>

namespace svgear {

// SVG2 (spec §2.4–2.5): p_ij = softmax_j(ℓ_ij + log n_j); sorted descending, element k is kept iff
// Σ_{k'<k} p ≤ top_p (the element that crosses top_p is kept) or k < int(min_kc_ratio·Kc).
at::Tensor route_svg2(const at::Tensor& centroid_logits, const at::Tensor& k_sizes, double top_p,
                      double min_kc_ratio);

// SVG-EAR (spec §3.4), r = guaranteed_ratio:
//   budget_i  = area of the SVG2-style top-p set, with the first max(1, int(2r·Kc)) always kept;
//   G_i       = the top max(1, int(r·Kc)) clusters by p;
//   remaining = max(0, budget_i − area(G_i));
//   greedy    = the other clusters by score descending, each taken while the area taken before it is
//               < remaining (so the last pick may overshoot).
// Returns G ∪ greedy.
at::Tensor route_svgear(const at::Tensor& centroid_logits, const at::Tensor& score, const at::Tensor& q_sizes,
                        const at::Tensor& k_sizes, double top_p, double guaranteed_ratio);

// The rules' cluster counts (Python's int() truncation, as the reference code): SVG2's force-kept
// int(min_kc_ratio·Kc); SVG-EAR's guaranteed max(1, int(r·Kc)) and its budget's force-kept
// max(1, int(2r·Kc)).
int64_t svg2_force_keep(double min_kc_ratio, int64_t k_clusters);
int64_t svgear_guaranteed_count(double guaranteed_ratio, int64_t k_clusters);
int64_t svgear_budget_keep(double guaranteed_ratio, int64_t k_clusters);

// Fraction of the attention area computed exactly: Σ_{mask} m_i·n_j / (Σ m_i · Σ n_j) (= N² for
// self-attention). Returns [BH] f32; 0 for a head without tokens.
at::Tensor block_density(const at::Tensor& block_mask, const at::Tensor& q_sizes, const at::Tensor& k_sizes);

// ATen references for CPU and CUDA tensors alike; call the functions above, which validate.
at::Tensor route_svg2_reference(const at::Tensor& centroid_logits, const at::Tensor& k_sizes, double top_p,
                                double min_kc_ratio);
at::Tensor route_svgear_reference(const at::Tensor& centroid_logits, const at::Tensor& score,
                                  const at::Tensor& q_sizes, const at::Tensor& k_sizes, double top_p,
                                  double guaranteed_ratio);
at::Tensor block_density_reference(const at::Tensor& block_mask, const at::Tensor& q_sizes,
                                   const at::Tensor& k_sizes);

}  // namespace svgear
