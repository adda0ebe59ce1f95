#include "kernels/layer_norm_affine/layer_norm_affine.h"

#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "svgear/build_config.h"

namespace svgear {
namespace {

// The op written out in float64 from x's values: [B, N, dim] float64.
at::Tensor expected_float64(const at::Tensor& x, const at::Tensor& gain, const at::Tensor& bias, double eps) {
  at::Tensor v = x.to(at::kDouble);
  at::Tensor centred = v - v.mean(-1, /*keepdim=*/true);
  at::Tensor y = centred / (centred.square().mean(-1, /*keepdim=*/true) + eps).sqrt();
  if (!gain.defined()) return y;
  at::Tensor g = gain.to(at::kDouble), b = bias.to(at::kDouble);
  if (g.dim() == 2) g = g.unsqueeze(1), b = b.unsqueeze(1);  // [B, 1, dim]: one row per batch entry
  return y * g + b;
}

// Shared and per-batch affine rows and none, float32 and bf16 inputs: the formula, and the
// result rounded once to the dtype asked for.
TEST(LayerNormAffine, MatchesTheFormulaInFloat64) {
  at::manual_seed(11);
  const int64_t dim = 24;
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    for (const int variant : {0, 1, 2}) {  // shared row, a row per batch entry, none
      at::Tensor x = (at::randn({3, 7, dim}) * 3 + 2).to(dtype);
      at::Tensor gain, bias;
      if (variant == 0) gain = at::randn({dim}), bias = at::randn({dim});
      if (variant == 1) gain = at::randn({3, dim}), bias = at::randn({3, dim});
      at::Tensor out = layer_norm_affine(x, gain, bias, 1e-6, at::kFloat);
      ASSERT_EQ(out.sizes(), x.sizes());
      EXPECT_EQ(out.scalar_type(), at::kFloat);
      EXPECT_TRUE(at::allclose(out.to(at::kDouble), expected_float64(x, gain, bias, 1e-6), 1e-5, 1e-5))
          << dtype << " variant " << variant;
      EXPECT_TRUE(at::equal(layer_norm_affine(x, gain, bias, 1e-6, at::kBFloat16), out.to(at::kBFloat16)))
          << dtype << " variant " << variant;
    }
  }
}

TEST(LayerNormAffine, RejectsBadArguments) {
  at::Tensor x = at::randn({2, 5, 16}), row = at::ones({16});
  EXPECT_THROW(layer_norm_affine(x.view({10, 16}), row, row, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(layer_norm_affine(x, row, at::Tensor(), 1e-6, at::kFloat), c10::Error);      // one of two
  EXPECT_THROW(layer_norm_affine(x, at::ones({15}), at::ones({15}), 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(layer_norm_affine(x, at::ones({3, 16}), at::ones({3, 16}), 1e-6, at::kFloat), c10::Error);  // B = 2
  EXPECT_THROW(layer_norm_affine(x, row, at::ones({2, 16}), 1e-6, at::kFloat), c10::Error);  // shapes differ
  EXPECT_THROW(layer_norm_affine(x, row.to(at::kDouble), row, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(layer_norm_affine(x.to(at::kInt), row, row, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(layer_norm_affine(x, row, row, 1e-6, at::kLong), c10::Error);
}

// The residual: the sum in float32 from x, y and the gate as written out in float64 (the gate a
// row per batch entry, or none), and the norm of that sum as layer_norm_affine gives it.
TEST(ResidualLayerNormAffine, SumsThenNormalises) {
  at::manual_seed(13);
  const int64_t dim = 24;
  for (const at::ScalarType y_dtype : {at::kFloat, at::kBFloat16}) {
    for (const bool gated : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "y " << y_dtype << (gated ? " gated" : " plain"));
      at::Tensor x = at::randn({2, 9, dim}) * 3 + 1;
      at::Tensor y = at::randn({2, 9, dim}).to(y_dtype);
      at::Tensor gate = gated ? at::randn({2, dim}) : at::Tensor();
      at::Tensor gain = at::randn({2, dim}), bias = at::randn({2, dim});
      ResidualNormed r = residual_layer_norm_affine(x, y, gate, gain, bias, 1e-6, at::kBFloat16);
      at::Tensor want_sum = x.to(at::kDouble) + y.to(at::kDouble) * (gated ? gate.to(at::kDouble).unsqueeze(1) : at::ones({1}, at::kDouble));
      ASSERT_EQ(r.sum.scalar_type(), at::kFloat);
      EXPECT_TRUE(at::allclose(r.sum.to(at::kDouble), want_sum, 1e-6, 1e-6));
      ASSERT_EQ(r.normed.scalar_type(), at::kBFloat16);
      EXPECT_TRUE(at::equal(r.normed, layer_norm_affine(r.sum, gain, bias, 1e-6, at::kBFloat16)));
    }
  }
}

TEST(ResidualLayerNormAffine, KernelOnlyForCudaRowsWithYInTheOutputDtype) {
  at::Tensor x = at::randn({1, 4, 16}), y = at::randn({1, 4, 16}).to(at::kBFloat16);
  EXPECT_FALSE(residual_layer_norm_affine_runs_kernel(x, y, at::Tensor(), at::Tensor(), at::Tensor(), at::kBFloat16));
  if (!at::hasCUDA()) return;
  const at::Device cuda(at::kCUDA, 0);
  at::Tensor xc = x.to(cuda), yc = y.to(cuda);
  EXPECT_EQ(residual_layer_norm_affine_runs_kernel(xc, yc, at::Tensor(), at::Tensor(), at::Tensor(), at::kBFloat16),
            SVGEAR_HAVE_CUDA != 0);
  EXPECT_FALSE(residual_layer_norm_affine_runs_kernel(xc, yc, at::Tensor(), at::Tensor(), at::Tensor(), at::kHalf));
  // A row wider than the kernel holds in registers (16384 channels) runs the reference.
  at::Tensor wide = at::zeros({1, 1, 16392}, cuda), wide_y = wide.to(at::kBFloat16);
  EXPECT_FALSE(
      residual_layer_norm_affine_runs_kernel(wide, wide_y, at::Tensor(), at::Tensor(), at::Tensor(), at::kBFloat16));
  EXPECT_FALSE(residual_layer_norm_affine_runs_kernel(xc, yc.requires_grad_(), at::Tensor(), at::Tensor(), at::Tensor(),
                                                      at::kBFloat16));
}

TEST(ResidualLayerNormAffine, RejectsBadArguments) {
  at::Tensor x = at::randn({2, 5, 16}), y = at::randn({2, 5, 16}), gate = at::randn({2, 16}), row = at::ones({16});
  EXPECT_NO_THROW(residual_layer_norm_affine(x, y, gate, row, row, 1e-6, at::kFloat));
  EXPECT_THROW(residual_layer_norm_affine(x.to(at::kBFloat16), y, gate, row, row, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(residual_layer_norm_affine(x, at::Tensor(), gate, row, row, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(residual_layer_norm_affine(x, y.view({2, 10, 8}), gate, row, row, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(residual_layer_norm_affine(x, y.to(at::kInt), gate, row, row, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(residual_layer_norm_affine(x, y, gate.unsqueeze(1), row, row, 1e-6, at::kFloat), c10::Error);  // [B, 1, dim]
  EXPECT_THROW(residual_layer_norm_affine(x, y, at::randn({1, 16}), row, row, 1e-6, at::kFloat), c10::Error);  // B = 2
  EXPECT_THROW(residual_layer_norm_affine(x, y, gate.to(at::kDouble), row, row, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(residual_layer_norm_affine(x, y, gate, at::ones({15}), at::ones({15}), 1e-6, at::kFloat), c10::Error);
}

struct GpuCase {
  int64_t batch, tokens, dim;
};
// The GPU tests' sizes (a chunk is 8 channels). Rows held by one warp (dim 8: one lane's chunk; 72:
// 9 chunks; 1536 and 2048: 6 and 8 per lane), by two (2056: 257 chunks, lane 0 with 5, the rest 4;
// 3072), by four (4104: 513 chunks, lane 0 with 5; 5120) and by eight (16376: the last lane one
// chunk short; 16384, the largest); token counts off every block of 8, 4, 2 and 1 rows.
const std::vector<GpuCase> kGpuCases = {{1, 1, 8},     {2, 37, 72},  {1, 1001, 1536}, {3, 5, 1536},
                                        {1, 7, 2048},  {2, 3, 2056}, {2, 3, 3072},    {3, 3, 4104},
                                        {1, 9, 5120},  {1, 2, 16376}, {1, 3, 16384}};

// The kernel against the reference on the GPU, at awkward sizes (kGpuCases), every input and output
// dtype, shared, per-batch and no affine rows: agreement to a float32 rounding of the normalised
// value plus one unit of the output's dtype everywhere, and to the output's rounding almost
// everywhere. Then float32 rows with a mean 100 times their spread, against the float64 formula:
// a variance taken as E[x²] − E[x]² would be off by ~5e-3 there, the two passes by ~1e-5.
TEST(LayerNormAffine, KernelMatchesReferenceOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(12);
  const at::Device cuda(at::kCUDA, 0);
  for (const GpuCase& c : kGpuCases) {
    for (const at::ScalarType in : {at::kFloat, at::kBFloat16, at::kHalf}) {
      for (const at::ScalarType out_dtype : {at::kBFloat16, at::kHalf, at::kFloat}) {
        for (const int variant : {0, 1, 2}) {
          SCOPED_TRACE(::testing::Message() << "B " << c.batch << " N " << c.tokens << " dim " << c.dim << " " << in
                                            << " → " << out_dtype << " affine " << variant);
          at::Tensor x = (at::randn({c.batch, c.tokens, c.dim}) * 4 + 30).to(in).to(cuda);
          at::Tensor gain, bias;
          if (variant == 0) gain = at::randn({c.dim}).to(cuda), bias = at::randn({c.dim}).to(cuda);
          if (variant == 1) gain = at::randn({c.batch, c.dim}).to(cuda), bias = at::randn({c.batch, c.dim}).to(cuda);
          at::Tensor got = layer_norm_affine(x, gain, bias, 1e-6, out_dtype);
          at::Tensor want = layer_norm_affine_reference(x, gain, bias, 1e-6, out_dtype);
          ASSERT_EQ(got.sizes(), want.sizes());
          ASSERT_EQ(got.scalar_type(), out_dtype);
          const double unit = out_dtype == at::kBFloat16 ? std::ldexp(1.0, -7)
                                                         : (out_dtype == at::kHalf ? std::ldexp(1.0, -10) : 1e-6);
          at::Tensor size = want.to(at::kDouble).abs();
          at::Tensor error = (got.to(at::kDouble) - want.to(at::kDouble)).abs();
          EXPECT_TRUE((error <= 1e-4 + unit * (size + 1)).all().item<bool>())
              << "largest difference " << error.max().item<double>();
          // Where there are enough elements for a share to mean something.
          if (got.numel() >= 64) {
            const double exact = out_dtype == at::kFloat ? 1e-5 : 0.0;
            EXPECT_GE((error <= exact * (size + 1)).to(at::kDouble).mean().item<double>(), 0.95);
          }
        }
      }
    }
  }
  for (const int64_t dim : {72, 1536, 5120}) {
    SCOPED_TRACE(::testing::Message() << "mean 100, dim " << dim);
    at::Tensor x = at::randn({2, 33, dim}) + 100;
    at::Tensor gain = at::randn({2, dim}), bias = at::randn({2, dim});
    at::Tensor got = layer_norm_affine(x.to(cuda), gain.to(cuda), bias.to(cuda), 1e-6, at::kFloat).cpu();
    at::Tensor want = expected_float64(x, gain, bias, 1e-6);
    at::Tensor error = (got.to(at::kDouble) - want).abs();
    EXPECT_TRUE((error <= 1e-4 * (want.abs() + 1)).all().item<bool>())
        << "largest difference " << error.max().item<double>();
  }
}

// The residual kernel against the reference on the GPU: kGpuCases, each output dtype with y in it (the
// kernel's case), a gate per batch entry (a strided view, as the block's adaLN chunk is) or none, a y
// one element into its storage (not 16-byte aligned), shared, per-batch and no affine rows; the op
// must run the kernel for each. The sum is float32 arithmetic either way: equal to a float32 rounding
// (the kernel may fuse the multiply and add); the norm as in the test above. Every element of both
// outputs is compared.
TEST(ResidualLayerNormAffine, KernelMatchesReferenceOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(14);
  const at::Device cuda(at::kCUDA, 0);
  for (const GpuCase& c : kGpuCases) {
    for (const at::ScalarType out_dtype : {at::kBFloat16, at::kHalf, at::kFloat}) {
      for (const bool gated : {true, false}) {
        for (const int variant : {0, 1, 2}) {
          SCOPED_TRACE(::testing::Message() << "B " << c.batch << " N " << c.tokens << " dim " << c.dim << " → "
                                            << out_dtype << (gated ? " gated" : " plain") << " affine " << variant);
          at::Tensor x = (at::randn({c.batch, c.tokens, c.dim}) * 4 + 30).to(cuda);
          at::Tensor y = (at::randn({c.batch * c.tokens * c.dim + 1}) * 2)
                             .to(out_dtype)
                             .to(cuda)
                             .narrow(0, 1, c.batch * c.tokens * c.dim)
                             .view({c.batch, c.tokens, c.dim});
          at::Tensor gate = gated ? at::randn({c.batch, 6, c.dim}).to(cuda).chunk(6, 1)[2].flatten(1) : at::Tensor();
          at::Tensor gain, bias;
          if (variant == 0) gain = at::randn({c.dim}).to(cuda), bias = at::randn({c.dim}).to(cuda);
          if (variant == 1) gain = at::randn({c.batch, c.dim}).to(cuda), bias = at::randn({c.batch, c.dim}).to(cuda);
          ASSERT_TRUE(residual_layer_norm_affine_runs_kernel(x, y, gate, gain, bias, out_dtype));
          ResidualNormed got = residual_layer_norm_affine(x, y, gate, gain, bias, 1e-6, out_dtype);
          ResidualNormed want = residual_layer_norm_affine_reference(x, y, gate, gain, bias, 1e-6, out_dtype);
          ASSERT_EQ(got.sum.sizes(), x.sizes());
          ASSERT_EQ(got.sum.scalar_type(), at::kFloat);
          at::Tensor sum_error = (got.sum.to(at::kDouble) - want.sum.to(at::kDouble)).abs();
          EXPECT_TRUE((sum_error <= 1e-6 * (want.sum.to(at::kDouble).abs() + 1)).all().item<bool>())
              << "largest sum difference " << sum_error.max().item<double>();
          ASSERT_EQ(got.normed.sizes(), x.sizes());
          ASSERT_EQ(got.normed.scalar_type(), out_dtype);
          const double unit = out_dtype == at::kBFloat16 ? std::ldexp(1.0, -7)
                                                         : (out_dtype == at::kHalf ? std::ldexp(1.0, -10) : 1e-6);
          at::Tensor size = want.normed.to(at::kDouble).abs();
          at::Tensor error = (got.normed.to(at::kDouble) - want.normed.to(at::kDouble)).abs();
          EXPECT_TRUE((error <= 1e-4 + unit * (size + 1)).all().item<bool>())
              << "largest difference " << error.max().item<double>();
          if (got.normed.numel() >= 64) {
            const double exact = out_dtype == at::kFloat ? 1e-5 : 0.0;
            EXPECT_GE((error <= exact * (size + 1)).to(at::kDouble).mean().item<double>(), 0.95);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace svgear
