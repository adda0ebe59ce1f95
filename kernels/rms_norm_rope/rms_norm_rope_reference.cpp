#include <ATen/ATen.h>

#include "kernels/rms_norm_rope/rms_norm_rope.h"

namespace svgear {

at::Tensor rms_norm_rope_reference(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& rotation,
                                   int64_t heads, double eps, at::ScalarType dtype, RmsNormRopeLayout layout) {
  at::Tensor v = x.to(at::kFloat).contiguous();  // [B, N, heads·d]
  // Upstream WanRMSNorm's rounding: normalise in float32, round to x's dtype, then the weight.
  if (weight.defined()) {
    at::Tensor normed = v * at::rsqrt(v.pow(2).mean(-1, /*keepdim=*/true) + eps);
    v = normed.to(x.scalar_type()).to(at::kFloat) * weight;
  }
  const int64_t batch = x.size(0), tokens = x.size(1), head_dim = x.size(2) / heads;
  v = v.view({batch, tokens, heads, head_dim});  // [B, N, H, d]
  if (rotation.defined()) {
    // (even + i·odd) · e^{i·angle}, one complex product per channel pair.
    at::Tensor pairs = at::view_as_complex(v.reshape({batch, tokens, heads, head_dim / 2, 2}));  // [B, N, H, d/2]
    v = at::view_as_real(pairs * rotation.unsqueeze(0).unsqueeze(2)).flatten(-2);                // [B, N, H, d]
  }
  // Always a fresh tensor (without a norm or a rotation v may still be x itself).
  const at::TensorOptions options = x.options().dtype(dtype);
  if (layout == RmsNormRopeLayout::TokensFirst) {
    return at::empty({batch, tokens, heads, head_dim}, options).copy_(v).transpose(1, 2);
  }
  return at::empty({batch, heads, tokens, head_dim}, options).copy_(v.transpose(1, 2));  // [B, H, N, d]
}

}  // namespace svgear
