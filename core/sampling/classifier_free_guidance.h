#pragma once
// Classifier-free guidance as Wan applies it: uncond + scale * (cond - uncond).

#include <ATen/core/Tensor.h>

namespace svgear {

// cond, uncond: the model's predictions with the prompt and with the negative prompt. A scale of 1
// gives cond back; 0 gives uncond.
at::Tensor apply_guidance(const at::Tensor& cond, const at::Tensor& uncond, double scale);

}  // namespace svgear
