#include "core/model/wan_layers.h"

#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "kernels/layer_norm_affine/layer_norm_affine.h"

namespace svgear {
namespace {

// adaLN's modulation is layer_norm_affine's affine step with gain 1 + scale and bias shift, one row
// per batch entry (layer_norm_affine_test checks that op against the formula), in the dtype asked for.
TEST(WanLayers, NormModulateIsLayerNormThenModulation) {
  at::manual_seed(3);
  const int64_t dim = 40;
  for (const int64_t batch : {1, 3}) {
    at::Tensor x = at::randn({batch, 7, dim}) * 3 + 1;
    at::Tensor shift = at::randn({batch, 1, dim}), scale = at::randn({batch, 1, dim}) * 0.5;
    for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
      at::Tensor out = wan_norm_modulate(x, shift, scale, 1e-6, dtype);
      ASSERT_EQ(out.sizes(), x.sizes());
      EXPECT_EQ(out.scalar_type(), dtype);
      at::Tensor normed = layer_norm_affine(x, at::Tensor(), at::Tensor(), 1e-6, at::kFloat);
      at::Tensor want = (normed * (1 + scale) + shift).to(dtype);
      const double tolerance = dtype == at::kFloat ? 1e-5 : 1e-2;
      EXPECT_TRUE(at::allclose(out.to(at::kFloat), want.to(at::kFloat), tolerance, tolerance))
          << "batch " << batch << " " << dtype;
    }
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
