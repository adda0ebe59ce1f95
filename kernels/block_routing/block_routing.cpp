#include "kernels/block_routing/block_routing.h"

#include <cmath>

#include <ATen/ATen.h>

namespace svgear {
namespace {

// The op's [BH, Qc, Kc] input (centroid_logits or block_mask); the size tensors are checked against it.
void check_blocks(const at::Tensor& blocks, const char* name, at::ScalarType dtype) {
  TORCH_CHECK(blocks.dim() == 3, name, " must be [BH, Qc, Kc], got ", blocks.sizes());
  TORCH_CHECK(blocks.size(2) >= 1, name, " needs at least one key cluster, got ", blocks.sizes());
  TORCH_CHECK(blocks.scalar_type() == dtype, name, " must be ", dtype, ", got ", blocks.scalar_type());
}

void check_sizes(const at::Tensor& sizes, const char* name, const at::Tensor& blocks, int64_t blocks_dim) {
  TORCH_CHECK(sizes.dim() == 2 && sizes.size(0) == blocks.size(0) && sizes.size(1) == blocks.size(blocks_dim),
              name, " must be [BH, ", blocks_dim == 1 ? "Qc" : "Kc", "] = [", blocks.size(0), ", ",
              blocks.size(blocks_dim), "], got ", sizes.sizes());
  TORCH_CHECK(sizes.scalar_type() == at::kLong, name, " must be int64, got ", sizes.scalar_type());
  TORCH_CHECK(sizes.device() == blocks.device(), name, " must be on ", blocks.device(), ", got ",
              sizes.device());
}

void check_fraction(double value, const char* name) {
  TORCH_CHECK(std::isfinite(value) && value >= 0.0 && value <= 1.0, name, " must be in [0, 1], got ", value);
}

}  // namespace

at::Tensor route_svg2(const at::Tensor& centroid_logits, const at::Tensor& k_sizes, double top_p,
                      double min_kc_ratio) {
  check_blocks(centroid_logits, "centroid_logits", at::kFloat);
  check_sizes(k_sizes, "k_sizes", centroid_logits, 2);
  check_fraction(top_p, "top_p");
  check_fraction(min_kc_ratio, "min_kc_ratio");
  return route_svg2_reference(centroid_logits, k_sizes, top_p, min_kc_ratio);
}

at::Tensor route_svgear(const at::Tensor& centroid_logits, const at::Tensor& score, const at::Tensor& q_sizes,
                        const at::Tensor& k_sizes, double top_p, double guaranteed_ratio) {
  check_blocks(centroid_logits, "centroid_logits", at::kFloat);
  TORCH_CHECK(score.sizes() == centroid_logits.sizes(), "score must be [BH, Qc, Kc] = ", centroid_logits.sizes(),
              ", got ", score.sizes());
  TORCH_CHECK(score.scalar_type() == at::kFloat, "score must be float32, got ", score.scalar_type());
  TORCH_CHECK(score.device() == centroid_logits.device(), "score must be on ", centroid_logits.device(),
              ", got ", score.device());
  check_sizes(q_sizes, "q_sizes", centroid_logits, 1);
  check_sizes(k_sizes, "k_sizes", centroid_logits, 2);
  check_fraction(top_p, "top_p");
  // 2r·Kc clusters are force-kept for the budget, so r above 0.5 would mean more than all of them.
  TORCH_CHECK(std::isfinite(guaranteed_ratio) && guaranteed_ratio >= 0.0 && guaranteed_ratio <= 0.5,
              "guaranteed_ratio must be in [0, 0.5], got ", guaranteed_ratio);
  return route_svgear_reference(centroid_logits, score, q_sizes, k_sizes, top_p, guaranteed_ratio);
}

at::Tensor block_density(const at::Tensor& block_mask, const at::Tensor& q_sizes, const at::Tensor& k_sizes) {
  check_blocks(block_mask, "block_mask", at::kBool);
  check_sizes(q_sizes, "q_sizes", block_mask, 1);
  check_sizes(k_sizes, "k_sizes", block_mask, 2);
  return block_density_reference(block_mask, q_sizes, k_sizes);
}

}  // namespace svgear
