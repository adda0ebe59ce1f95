#include <algorithm>
#include <limits>

#include <ATen/ATen.h>

#include "kernels/block_routing/block_routing.h"

namespace svgear {
namespace {

// p_ij = n_j·e^{ℓ_ij} / Σ_j' n_j'·e^{ℓ_ij'} (spec §2.4), the share of query cluster i's attention mass
// that key cluster j would get if all its keys sat at the centroid. Deviation: the EAR code adds
// log(n_j + 1e-8); log(0) = −inf gives empty clusters exactly p = 0, as SVG2's n_j·e^{ℓ} does. The
// two differ beyond fp32 rounding only where an empty cluster's (stale) centroid logit exceeds the
// non-empty ones' by Δ of a few nats: the EAR code then gives it a share of about 1e-8·e^{Δ}/n of
// the row (1% at Δ ≈ 14), which here goes to the non-empty clusters; and empty clusters rank last
// here, not by that logit.
at::Tensor size_weighted_probability(const at::Tensor& centroid_logits, const at::Tensor& k_sizes) {
  at::Tensor log_sizes = k_sizes.to(at::kFloat).log().unsqueeze(1);  // [BH, 1, Kc]
  return at::softmax(centroid_logits + log_sizes, -1);  // [BH, Qc, Kc]
}

// Σ_{k'<k} x[..., k'] along the last dimension: the spec's cumsum[k−1] (0 for k = 0), taken from
// the inclusive cumsum so that the compared values are exactly the spec's.
at::Tensor exclusive_cumsum(const at::Tensor& x) {
  at::Tensor inclusive = x.cumsum(-1);
  return at::cat({at::zeros_like(x.narrow(-1, 0, 1)), inclusive.narrow(-1, 0, x.size(-1) - 1)}, -1);
}

// Positions k along the last dimension, for "keep the first k" rules on sorted rows.
at::Tensor ranks(const at::Tensor& like) {
  return at::arange(like.size(-1), like.options().dtype(at::kLong));  // [Kc]
}

// Top-p in sorted order (spec §2.5): keep element k iff cumsum[k−1] ≤ top_p, which keeps the element
// that crosses top_p, or k < force_keep. The sum runs in fp64: over a thousand clusters an fp32 sum
// drifts by ~1e-5, enough to move the crossing element of a row now and then.
at::Tensor top_p_keep(const at::Tensor& sorted_probability, double top_p, int64_t force_keep) {
  // top_p >= 1 keeps everything, as in exact arithmetic: the rounded prefix sums can pass 1 early.
  if (top_p >= 1.0) return at::ones_like(sorted_probability, sorted_probability.options().dtype(at::kBool));
  return (exclusive_cumsum(sorted_probability.to(at::kDouble)) <= top_p) |
         (ranks(sorted_probability) < force_keep);  // [BH, Qc, Kc]
}

// Moves a decision made in sorted order back to cluster order.
at::Tensor unsort(const at::Tensor& sorted_decision, const at::Tensor& order) {
  return at::zeros_like(sorted_decision).scatter_(-1, order, sorted_decision);  // [BH, Qc, Kc]
}

// Empty key clusters are never routed: there is nothing to compute, and a kernel would see a
// zero-size block (spec P2).
at::Tensor nonempty_columns(const at::Tensor& k_sizes) {
  return (k_sizes > 0).unsqueeze(1);  // [BH, 1, Kc]
}

}  // namespace

at::Tensor route_svg2_reference(const at::Tensor& centroid_logits, const at::Tensor& k_sizes, double top_p,
                                double min_kc_ratio) {
  const int64_t min_keep = svg2_force_keep(min_kc_ratio, centroid_logits.size(2));
  at::Tensor probability = size_weighted_probability(centroid_logits, k_sizes);
  auto [sorted, order] = at::sort(probability, /*stable=*/true, -1, /*descending=*/true);  // [BH, Qc, Kc] each
  return unsort(top_p_keep(sorted, top_p, min_keep), order) & nonempty_columns(k_sizes);
}

at::Tensor route_svgear_reference(const at::Tensor& centroid_logits, const at::Tensor& score,
                                  const at::Tensor& q_sizes, const at::Tensor& k_sizes, double top_p,
                                  double guaranteed_ratio) {
  const int64_t budget_keep = svgear_budget_keep(guaranteed_ratio, centroid_logits.size(2));
  const int64_t guaranteed_count = svgear_guaranteed_count(guaranteed_ratio, centroid_logits.size(2));
  at::Tensor area = q_sizes.unsqueeze(2) * k_sizes.unsqueeze(1);  // [BH, Qc, Kc] int64 m_i·n_j

  // 1. The area SVG2-style top-p would spend on this row.
  at::Tensor probability = size_weighted_probability(centroid_logits, k_sizes);
  auto [sorted, order] = at::sort(probability, /*stable=*/true, -1, /*descending=*/true);  // [BH, Qc, Kc] each
  at::Tensor sorted_area = area.gather(-1, order);  // [BH, Qc, Kc]
  at::Tensor budget = at::where(top_p_keep(sorted, top_p, budget_keep), sorted_area, 0).sum(-1);  // [BH, Qc]

  // 2. The guaranteed set G: the most probable clusters, computed exactly whatever their score.
  at::Tensor sorted_guaranteed = ranks(sorted) < guaranteed_count;  // [Kc]
  at::Tensor guaranteed = unsort(sorted_guaranteed.expand_as(sorted).contiguous(), order);  // [BH, Qc, Kc]
  at::Tensor remaining = (budget - at::where(sorted_guaranteed, sorted_area, 0).sum(-1)).clamp_min(0);  // [BH, Qc]

  // 3. Greedy fill by error per area. G goes last (the reference uses −1e10; −inf is the same for
  //    finite scores), so only G members, whose selection is already decided, ever follow it.
  at::Tensor candidates = score.masked_fill(guaranteed, -std::numeric_limits<float>::infinity());
  at::Tensor greedy_order = std::get<1>(at::sort(candidates, /*stable=*/true, -1, /*descending=*/true));  // [BH, Qc, Kc]
  at::Tensor area_before = exclusive_cumsum(area.gather(-1, greedy_order));  // [BH, Qc, Kc]
  at::Tensor greedy = unsort(area_before < remaining.unsqueeze(-1), greedy_order);  // [BH, Qc, Kc]
  return (guaranteed | greedy) & nonempty_columns(k_sizes);
}

at::Tensor block_density_reference(const at::Tensor& block_mask, const at::Tensor& q_sizes,
                                   const at::Tensor& k_sizes) {
  at::Tensor area = q_sizes.unsqueeze(2) * k_sizes.unsqueeze(1);  // [BH, Qc, Kc] int64
  at::Tensor exact_area = at::where(block_mask, area, 0).sum({1, 2});  // [BH]
  at::Tensor total_area = q_sizes.sum(1) * k_sizes.sum(1);  // [BH]
  return (exact_area.to(at::kDouble) / total_area.clamp_min(1).to(at::kDouble)).to(at::kFloat);  // [BH]
}

}  // namespace svgear
