#include "core/model/wan_layers.h"

#include <vector>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>

#include "core/model/wan_weights.h"
#include "kernels/layer_norm_affine/layer_norm_affine.h"

namespace svgear {

namespace {

at::Tensor matmul_weight(const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& scale) {
  return scale.defined() ? dequantized_fp8(weight, scale, bias.scalar_type()) : weight;
}

}  // namespace

at::Tensor wan_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& scale) {
  const at::Tensor w = matmul_weight(weight, bias, scale);
  return at::linear(x.to(w.scalar_type()), w, bias);
}

// `_addmm_activation` has no derivative and is not on autocast's lists, so the trainer (gradients,
// bf16 autocast over float32 weights) keeps the linear and the GELU.
at::Tensor wan_linear_gelu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           const at::Tensor& scale) {
  const at::Tensor w = matmul_weight(weight, bias, scale);
  const at::Tensor input = x.to(w.scalar_type());
  const bool training = (at::GradMode::is_enabled() && (input.requires_grad() || w.requires_grad() ||
                                                        (bias.defined() && bias.requires_grad()))) ||
                        at::autocast::is_autocast_enabled(at::kCUDA);
  if (!input.is_cuda() || training || !bias.defined() || bias.scalar_type() != w.scalar_type()) {
    return at::gelu(at::linear(input, w, bias), "tanh");
  }
  std::vector<int64_t> sizes = input.sizes().vec();
  sizes.back() = w.size(0);
  at::Tensor rows = input.reshape({-1, input.size(-1)});  // [B·N, in]
  return at::_addmm_activation(bias, rows, w.t(), 1, 1, /*use_gelu=*/true).view(sizes);
}

at::Tensor wan_layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps,
                          at::ScalarType dtype) {
  return layer_norm_affine(x, weight, bias, eps, dtype);
}

at::Tensor wan_norm_modulate(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale, double eps,
                             at::ScalarType dtype) {
  return layer_norm_affine(x, (1 + scale).flatten(1), shift.flatten(1), eps, dtype);  // [B, dim] rows
}

ResidualNormed wan_add_layer_norm(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate,
                                  const at::Tensor& weight, const at::Tensor& bias, double eps, at::ScalarType dtype) {
  return residual_layer_norm_affine(x, y, gate.defined() ? gate.flatten(1) : gate, weight, bias, eps, dtype);
}

ResidualNormed wan_add_norm_modulate(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate,
                                     const at::Tensor& shift, const at::Tensor& scale, double eps,
                                     at::ScalarType dtype) {
  return residual_layer_norm_affine(x, y, gate.defined() ? gate.flatten(1) : gate, (1 + scale).flatten(1),
                                    shift.flatten(1), eps, dtype);
}

}  // namespace svgear
