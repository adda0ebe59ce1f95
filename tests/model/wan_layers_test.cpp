#include "core/model/wan_layers.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace svgear {
namespace {

// LayerNorm then x · (1 + scale) + shift, written out in float64.
at::Tensor norm_modulate_float64(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale, double eps) {
  at::Tensor xd = x.to(at::kDouble);
  at::Tensor centred = xd - xd.mean(-1, /*keepdim=*/true);
  at::Tensor normed = centred / (centred.square().mean(-1, /*keepdim=*/true) + eps).sqrt();
  return normed * (1 + scale.to(at::kDouble)) + shift.to(at::kDouble);
}

// One modulation vector (the norm's own affine step) and one per batch row (the general path) both
// give the formula; bf16 activations come back float32.
TEST(WanLayers, NormModulateIsLayerNormThenModulation) {
  at::manual_seed(3);
  const int64_t dim = 40;
  for (const int64_t batch : {1, 3}) {
    at::Tensor x = at::randn({batch, 7, dim}) * 3 + 1;
    at::Tensor shift = at::randn({batch, 1, dim}), scale = at::randn({batch, 1, dim}) * 0.5;
    at::Tensor out = wan_norm_modulate(x, shift, scale, 1e-6);
    ASSERT_EQ(out.sizes(), x.sizes());
    EXPECT_EQ(out.scalar_type(), at::kFloat);
    EXPECT_TRUE(at::allclose(out.to(at::kDouble), norm_modulate_float64(x, shift, scale, 1e-6), 1e-5, 1e-5))
        << "batch " << batch;
    // bf16 activations: normalised in float32 (a bf16 norm would be off by ~1e-2), float32 out.
    at::Tensor rounded = x.to(at::kBFloat16);
    at::Tensor half = wan_norm_modulate(rounded, shift, scale, 1e-6);
    EXPECT_EQ(half.scalar_type(), at::kFloat);
    EXPECT_TRUE(at::allclose(half.to(at::kDouble), norm_modulate_float64(rounded, shift, scale, 1e-6), 1e-5, 1e-5))
        << "batch " << batch;
  }
}

}  // namespace
}  // namespace svgear
