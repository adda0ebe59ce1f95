#include "core/sampling/classifier_free_guidance.h"

#include <ATen/ATen.h>

namespace svgear {

at::Tensor apply_guidance(const at::Tensor& cond, const at::Tensor& uncond, double scale) {
  return uncond + scale * (cond - uncond);
}

}  // namespace svgear
