#include "core/model/wan_layers.h"

#include <ATen/ATen.h>

namespace svgear {

at::Tensor wan_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return at::linear(x.to(weight.scalar_type()), weight, bias);
}

at::Tensor wan_layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                          double eps) {
  return at::layer_norm(x.to(at::kFloat), {x.size(-1)}, weight, bias, eps);
}

at::Tensor wan_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return normed.to(x.scalar_type()) * weight;
}

at::Tensor wan_modulate(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale) {
  return x.to(at::kFloat) * (1 + scale) + shift;
}

}  // namespace svgear
