#pragma once
// The small layers every part of the Wan DiT uses, with upstream's precision rules: matmuls run in
// the weights' dtype (bf16 on GPU; an e4m3 weight's, its bias's), norms and modulation in float32.

#include <ATen/core/Tensor.h>

#include "kernels/layer_norm_affine/layer_norm_affine.h"

namespace svgear {

// x @ weight^T + bias, with x cast to the weight's dtype; the result has the weight's dtype. With a
// `scale`, the weight is kept in e4m3 (WanWeights' fp8) and dequantised for this product to the
// bias's dtype (dequantized_fp8), which x and the result then have.
at::Tensor wan_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                      const at::Tensor& scale = at::Tensor());

// gelu(x @ weight^T + bias), GELU in its tanh form (upstream's FFN): on CUDA, outside training,
// one matrix product with cuBLASLt's GELU epilogue (applied to the float32 accumulator, before the
// rounding to the weights' dtype), so the [N, ffn_dim] product is not read and written again;
// elsewhere the linear, then the GELU. `scale` as for wan_linear.
at::Tensor wan_linear_gelu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           const at::Tensor& scale = at::Tensor());

// LayerNorm over the last dim, computed in float32 (upstream WanLayerNorm) and rounded once to
// `dtype` (the next projection's); weight and bias are undefined for the norms without affine
// parameters. One pass on CUDA outside training (layer_norm_affine).
at::Tensor wan_layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps,
                          at::ScalarType dtype);

// LayerNorm without affine parameters, then the adaLN modulation x · (1 + scale) + shift, in
// float32 (shift, scale: [B, 1, dim]), rounded once to `dtype` (the next projection's): one pass
// over the activations on CUDA outside training (layer_norm_affine); elsewhere ATen's layer_norm
// with the modulation as its affine step when B = 1.
at::Tensor wan_norm_modulate(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale, double eps,
                             at::ScalarType dtype);

// A block's residual and the norm after it: x + y · gate (float32; gate [B, 1, dim], or undefined
// for x + y) as `sum`, and wan_layer_norm / wan_norm_modulate of that sum as `normed`; one pass over
// the activations on CUDA outside training (residual_layer_norm_affine).
ResidualNormed wan_add_layer_norm(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate,
                                  const at::Tensor& weight, const at::Tensor& bias, double eps, at::ScalarType dtype);
ResidualNormed wan_add_norm_modulate(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate,
                                     const at::Tensor& shift, const at::Tensor& scale, double eps,
                                     at::ScalarType dtype);

}  // namespace svgear
