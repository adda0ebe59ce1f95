#include "kernels/block_routing/block_routing.h"

#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "kernels/block_routing/block_routing_cuda.cuh"
#include "kernels/common/kernel_path.h"
#endif

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

#if SVGEAR_HAVE_CUDA
// The CUDA kernel (block_routing_cuda.cu) runs CUDA tensors of up to 2048 key clusters and 2³¹
// rows; the reference the rest.
bool kernel_routes(const at::Tensor& centroid_logits) {
  return cuda_kernels_serve(centroid_logits.device()) &&
         block_routing_cuda_supports(centroid_logits.size(0) * centroid_logits.size(1), centroid_logits.size(2));
}

// score undefined routes SVG2 (q_sizes unused then).
at::Tensor route_with_kernel(const at::Tensor& centroid_logits, const at::Tensor& score, const at::Tensor& q_sizes,
                             const at::Tensor& k_sizes, double top_p, int force_keep, int guaranteed) {
  const c10::cuda::CUDAGuard device_guard(centroid_logits.device());
  at::Tensor logits = centroid_logits.contiguous(), scores = score.defined() ? score.contiguous() : at::Tensor();
  at::Tensor m = q_sizes.defined() ? q_sizes.contiguous() : at::Tensor(), n = k_sizes.contiguous();
  at::Tensor mask = at::empty(logits.sizes(), logits.options().dtype(at::kBool));
  BlockRoutingArgs args;
  args.centroid_logits = logits.data_ptr<float>();
  args.score = scores.defined() ? scores.data_ptr<float>() : nullptr;
  args.q_sizes = m.defined() ? m.data_ptr<int64_t>() : nullptr;
  args.k_sizes = n.data_ptr<int64_t>();
  args.mask = mask.data_ptr<bool>();
  args.bh = logits.size(0);
  args.q_clusters = logits.size(1);
  args.k_clusters = logits.size(2);
  args.top_p = top_p;
  args.force_keep = force_keep;
  args.guaranteed = guaranteed;
  launch_block_routing(args, at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return mask;
}
#endif

}  // namespace

at::Tensor route_svg2(const at::Tensor& centroid_logits, const at::Tensor& k_sizes, double top_p,
                      double min_kc_ratio) {
  check_blocks(centroid_logits, "centroid_logits", at::kFloat);
  check_sizes(k_sizes, "k_sizes", centroid_logits, 2);
  check_fraction(top_p, "top_p");
  check_fraction(min_kc_ratio, "min_kc_ratio");
#if SVGEAR_HAVE_CUDA
  if (kernel_routes(centroid_logits)) {
    const auto min_keep = static_cast<int>(svg2_force_keep(min_kc_ratio, centroid_logits.size(2)));
    return route_with_kernel(centroid_logits, at::Tensor(), at::Tensor(), k_sizes, top_p, min_keep, 0);
  }
#endif
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
#if SVGEAR_HAVE_CUDA
  if (kernel_routes(centroid_logits)) {
    const int64_t key_clusters = centroid_logits.size(2);
    return route_with_kernel(centroid_logits, score, q_sizes, k_sizes, top_p,
                             static_cast<int>(svgear_budget_keep(guaranteed_ratio, key_clusters)),
                             static_cast<int>(svgear_guaranteed_count(guaranteed_ratio, key_clusters)));
  }
#endif
  return route_svgear_reference(centroid_logits, score, q_sizes, k_sizes, top_p, guaranteed_ratio);
}

int64_t svg2_force_keep(double min_kc_ratio, int64_t k_clusters) {
  return static_cast<int64_t>(min_kc_ratio * static_cast<double>(k_clusters));
}

int64_t svgear_guaranteed_count(double guaranteed_ratio, int64_t k_clusters) {
  return std::max<int64_t>(1, static_cast<int64_t>(guaranteed_ratio * static_cast<double>(k_clusters)));
}

int64_t svgear_budget_keep(double guaranteed_ratio, int64_t k_clusters) {
  return std::max<int64_t>(1, static_cast<int64_t>(2.0 * guaranteed_ratio * static_cast<double>(k_clusters)));
}

at::Tensor block_density(const at::Tensor& block_mask, const at::Tensor& q_sizes, const at::Tensor& k_sizes) {
  check_blocks(block_mask, "block_mask", at::kBool);
  check_sizes(q_sizes, "q_sizes", block_mask, 1);
  check_sizes(k_sizes, "k_sizes", block_mask, 2);
  return block_density_reference(block_mask, q_sizes, k_sizes);
}

}  // namespace svgear
