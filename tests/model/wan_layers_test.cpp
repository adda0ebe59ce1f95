#include "core/model/wan_layers.h"

#include <vector>

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

// The FFN's first linear with cuBLASLt's GELU epilogue on CUDA against the CPU's float32
// gelu(linear), tanh form: within rounding (bf16: of the weights and the output).
TEST(WanLayers, LinearGeluOnCudaIsGeluOfTheLinear) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(4);
  at::Tensor x = at::randn({2, 33, 48}), weight = at::randn({80, 48}) * 0.2, bias = at::randn({80});
  const at::Device cuda(at::kCUDA, 0);
  for (const at::ScalarType dtype : {at::kBFloat16, at::kFloat}) {
    at::Tensor w = weight.to(dtype).to(at::kFloat), b = bias.to(dtype).to(at::kFloat);  // as rounded
    at::Tensor want = at::gelu(at::linear(x.to(dtype).to(at::kFloat), w, b), "tanh");
    at::Tensor cuda_out = wan_linear_gelu(x.to(cuda), weight.to(cuda, dtype), bias.to(cuda, dtype));
    ASSERT_EQ(cuda_out.sizes(), (std::vector<int64_t>{2, 33, 80}));
    EXPECT_EQ(cuda_out.scalar_type(), dtype);
    const double tolerance = dtype == at::kFloat ? 1e-4 : 3e-2;
    EXPECT_TRUE(at::allclose(cuda_out.cpu().to(at::kFloat), want, tolerance, tolerance)) << dtype;
  }
}

}  // namespace
}  // namespace svgear
