#include <utility>

#include <ATen/ATen.h>

#include "kernels/layer_norm_affine/layer_norm_affine.h"

namespace svgear {

at::Tensor layer_norm_affine_reference(const at::Tensor& x, const at::Tensor& gain, const at::Tensor& bias,
                                       double eps, at::ScalarType dtype) {
  const int64_t dim = x.size(-1);
  const at::Tensor xf = x.to(at::kFloat);
  at::Tensor y;
  if (!gain.defined() || gain.dim() == 1 || x.size(0) == 1) {
    // One affine row: the norm's own affine step, one ATen kernel.
    y = at::layer_norm(xf, {dim}, gain.defined() ? gain.reshape({dim}) : gain,
                       bias.defined() ? bias.reshape({dim}) : bias, eps);
  } else {
    y = at::addcmul(bias.unsqueeze(1), at::layer_norm(xf, {dim}, {}, {}, eps), gain.unsqueeze(1));
  }
  return y.to(dtype);
}

ResidualNormed residual_layer_norm_affine_reference(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate,
                                                    const at::Tensor& gain, const at::Tensor& bias, double eps,
                                                    at::ScalarType dtype) {
  at::Tensor sum = gate.defined() ? at::addcmul(x, y, gate.unsqueeze(1)) : x + y;  // float32
  at::Tensor normed = layer_norm_affine_reference(sum, gain, bias, eps, dtype);
  return {std::move(sum), std::move(normed)};
}

}  // namespace svgear
