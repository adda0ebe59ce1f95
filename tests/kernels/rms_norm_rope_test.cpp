#include "kernels/rms_norm_rope/rms_norm_rope.h"

#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace svgear {
namespace {

// e^{i·angle} for random angles, [tokens, pairs] complex64.
at::Tensor random_rotation(int64_t tokens, int64_t pairs) {
  at::Tensor angles = at::rand({tokens, pairs}, at::kDouble) * 20.0;
  return at::polar(at::ones_like(angles), angles).to(at::kComplexFloat);
}

// The op written out in float64 from x's values, rounding the normalised value to x's dtype as
// upstream's WanRMSNorm does: [B, H, N, d] float64.
at::Tensor expected_float64(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& rotation,
                            int64_t heads, double eps) {
  at::Tensor v = x.to(at::kDouble);
  if (weight.defined()) {
    at::Tensor normed = v / (v.square().mean(-1, /*keepdim=*/true) + eps).sqrt();
    v = normed.to(x.scalar_type()).to(at::kDouble) * weight.to(at::kDouble);
  }
  const int64_t batch = x.size(0), tokens = x.size(1), d = x.size(2) / heads;
  at::Tensor pairs = v.reshape({batch, tokens, heads, d / 2, 2});
  at::Tensor even = pairs.select(-1, 0), odd = pairs.select(-1, 1);
  at::Tensor rot = at::view_as_real(rotation).to(at::kDouble).unsqueeze(0).unsqueeze(2);  // [1, N, 1, d/2, 2]
  at::Tensor c = rot.select(-1, 0), s = rot.select(-1, 1);
  at::Tensor rotated = at::stack({even * c - odd * s, even * s + odd * c}, -1).flatten(-2);  // [B, N, H, d]
  return rotated.transpose(1, 2);
}

TEST(RmsNormRope, MatchesTheFormulaInFloat64) {
  at::manual_seed(7);
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    at::Tensor x = (at::randn({2, 11, 3 * 16}) * 2 + 0.5).to(dtype);
    at::Tensor weight = at::rand({3 * 16}) + 0.5;
    at::Tensor rotation = random_rotation(11, 8);
    at::Tensor out = rms_norm_rope(x, weight, rotation, 3, 1e-6, at::kFloat);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 3, 11, 16}));
    EXPECT_TRUE(out.is_contiguous());
    EXPECT_EQ(out.scalar_type(), at::kFloat);
    // float32: to rounding; bf16: a normalised value may round to the neighbouring bf16 number
    // (float64 and float32 sums differ in the last bits), one bf16 unit (2^-8 relative) times the gain.
    const double tolerance = dtype == at::kFloat ? 1e-5 : 2e-2;
    EXPECT_TRUE(at::allclose(out.to(at::kDouble), expected_float64(x, weight, rotation, 3, 1e-6), tolerance,
                             tolerance))
        << dtype;
    // In a 16-bit output dtype: the float32 result rounded once, at the end.
    at::Tensor half = rms_norm_rope(x, weight, rotation, 3, 1e-6, at::kBFloat16);
    EXPECT_EQ(half.scalar_type(), at::kBFloat16);
    EXPECT_TRUE(at::equal(half, out.to(at::kBFloat16))) << dtype;
  }
}

// Without a gain (a model without qk_norm) only the rotation applies: channel pairs (2j, 2j+1) of
// token n turn by its angle j, and every pair keeps its length.
TEST(RmsNormRope, WithoutGainRotatesAdjacentPairs) {
  at::manual_seed(8);
  const int64_t tokens = 24, heads = 3, d = 12;
  at::Tensor x = at::randn({2, tokens, heads * d});
  at::Tensor rotation = random_rotation(tokens, d / 2);
  at::Tensor y = rms_norm_rope(x, at::Tensor(), rotation, heads, 1e-6, at::kFloat);  // [B, H, N, d]
  const int64_t n = 23, head = 1, j = 4;
  const double c = at::real(rotation)[n][j].item<double>(), s = at::imag(rotation)[n][j].item<double>();
  const double x0 = x[1][n][head * d + 2 * j].item<double>(), x1 = x[1][n][head * d + 2 * j + 1].item<double>();
  EXPECT_NEAR(y[1][head][n][2 * j].item<double>(), x0 * c - x1 * s, 1e-6);
  EXPECT_NEAR(y[1][head][n][2 * j + 1].item<double>(), x0 * s + x1 * c, 1e-6);
  at::Tensor lengths_in = x.view({2, tokens, heads, d / 2, 2}).norm(2, -1).transpose(1, 2);
  at::Tensor lengths_out = y.view({2, heads, tokens, d / 2, 2}).norm(2, -1);
  EXPECT_TRUE(at::allclose(lengths_out, lengths_in, 1e-5, 1e-5));
}

// Without a rotation (the cross-attention's queries) the op is the norm alone, heads first: the
// float64 formula with every angle 0.
TEST(RmsNormRope, WithoutRotationIsTheNormHeadsFirst) {
  at::manual_seed(10);
  const int64_t tokens = 13, heads = 2, d = 8;
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    at::Tensor x = (at::randn({2, tokens, heads * d}) * 2).to(dtype);
    at::Tensor weight = at::rand({heads * d}) + 0.5;
    at::Tensor out = rms_norm_rope(x, weight, at::Tensor(), heads, 1e-6, at::kFloat);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, heads, tokens, d}));
    EXPECT_TRUE(out.is_contiguous());
    const at::Tensor unrotated = at::ones({tokens, d / 2}, at::kComplexFloat);
    const double tolerance = dtype == at::kFloat ? 1e-5 : 2e-2;
    EXPECT_TRUE(at::allclose(out.to(at::kDouble), expected_float64(x, weight, unrotated, heads, 1e-6), tolerance,
                             tolerance))
        << dtype;
    // Nor does it rotate without a gain: the layout and the cast only.
    EXPECT_TRUE(at::equal(rms_norm_rope(x, at::Tensor(), at::Tensor(), heads, 1e-6, dtype),
                          x.view({2, tokens, heads, d}).transpose(1, 2).contiguous()))
        << dtype;
    // Tokens first: the same values, stored [B, N, H, d], in a tensor of its own even where it
    // changes nothing.
    at::Tensor tokens_first = rms_norm_rope(x, weight, at::Tensor(), heads, 1e-6, at::kFloat,
                                            RmsNormRopeLayout::TokensFirst);
    ASSERT_EQ(tokens_first.sizes(), out.sizes());
    EXPECT_TRUE(tokens_first.transpose(1, 2).is_contiguous());
    EXPECT_TRUE(at::equal(tokens_first, out)) << dtype;
    at::Tensor same = rms_norm_rope(x, at::Tensor(), at::Tensor(), heads, 1e-6, dtype, RmsNormRopeLayout::TokensFirst);
    EXPECT_NE(same.data_ptr(), x.data_ptr());
  }
}

TEST(RmsNormRope, RejectsBadArguments) {
  at::Tensor x = at::randn({1, 5, 12}), rotation = random_rotation(5, 2), weight = at::ones({12});
  EXPECT_THROW(rms_norm_rope(x.view({5, 12}), weight, rotation, 3, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(rms_norm_rope(x, weight, rotation, 5, 1e-6, at::kFloat), c10::Error);   // 12 = 5 × ?
  EXPECT_THROW(rms_norm_rope(x, weight, rotation, 4, 1e-6, at::kFloat), c10::Error);   // d = 3, odd
  EXPECT_THROW(rms_norm_rope(x, weight, random_rotation(4, 2), 3, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(rms_norm_rope(x, weight, at::view_as_real(rotation), 3, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(rms_norm_rope(x, at::ones({11}), rotation, 3, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(rms_norm_rope(x, weight.to(at::kDouble), rotation, 3, 1e-6, at::kFloat), c10::Error);
  EXPECT_THROW(rms_norm_rope(x, weight, rotation, 3, 1e-6, at::kLong), c10::Error);
}

// The kernel against the reference on the GPU, at awkward sizes (token counts off every tile,
// one head, d 8 / 64 / 128), every input and output dtype, with and without a gain or a rotation:
// agreement to one unit of x's dtype where the normalised value rounds the other way, and bit for
// bit almost everywhere.
TEST(RmsNormRope, KernelMatchesReferenceOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(9);
  const at::Device cuda(at::kCUDA, 0);
  struct Case {
    int64_t batch, tokens, heads, d;
  };
  // d = 72: 45 chunks of 8 per row, more than a warp's 32 and not a multiple of it.
  for (const Case& c :
       std::vector<Case>{{1, 1, 1, 8}, {2, 37, 3, 64}, {1, 50, 5, 72}, {1, 1001, 12, 128}, {3, 5, 2, 128}}) {
    for (const at::ScalarType in : {at::kBFloat16, at::kHalf, at::kFloat}) {
      for (const at::ScalarType out_dtype : {at::kBFloat16, at::kHalf, at::kFloat}) {
        // Gain and rotation, no gain, no rotation (the cross-attention's queries: tokens first).
        for (const int variant : {0, 1, 2}) {
          const bool gain = variant != 1, rotate = variant != 2;
          const RmsNormRopeLayout layout = rotate ? RmsNormRopeLayout::HeadsFirst : RmsNormRopeLayout::TokensFirst;
          SCOPED_TRACE(::testing::Message() << "B " << c.batch << " N " << c.tokens << " H " << c.heads << " d "
                                            << c.d << " " << in << " → " << out_dtype << (gain ? " gain" : "")
                                            << (rotate ? " rotation" : " tokens first"));
          at::Tensor x = (at::randn({c.batch, c.tokens, c.heads * c.d}) * 3).to(in).to(cuda);
          at::Tensor weight = gain ? (at::rand({c.heads * c.d}) + 0.5).to(cuda) : at::Tensor();
          at::Tensor rotation = rotate ? random_rotation(c.tokens, c.d / 2).to(cuda) : at::Tensor();
          at::Tensor got = rms_norm_rope(x, weight, rotation, c.heads, 1e-6, out_dtype, layout);
          at::Tensor want = rms_norm_rope_reference(x, weight, rotation, c.heads, 1e-6, out_dtype, layout);
          ASSERT_EQ(got.sizes(), want.sizes());
          ASSERT_EQ(got.strides(), want.strides());
          ASSERT_TRUE(rotate ? got.is_contiguous() : got.transpose(1, 2).is_contiguous());
          // Every element: a normalised value (|n| < ~5) that rounds to the neighbouring number of
          // x's dtype, times a gain below 1.5 (bf16 0.05, fp16 0.007), plus one unit of the output's
          // dtype at the result's size.
          const double flip = in == at::kBFloat16 ? 0.05 : (in == at::kHalf ? 0.007 : 1e-5);
          const double unit = out_dtype == at::kBFloat16 ? std::ldexp(1.0, -7)
                                                         : (out_dtype == at::kHalf ? std::ldexp(1.0, -10) : 1e-6);
          at::Tensor size = want.to(at::kDouble).abs();
          at::Tensor error = (got.to(at::kDouble) - want.to(at::kDouble)).abs();
          EXPECT_TRUE((error <= flip + unit * size).all().item<bool>())
              << "largest difference " << error.max().item<double>();
          // Nearly every element agrees to the output's rounding: a kernel that skipped the rounding
          // to x's dtype, or rounded elsewhere, would differ in most of them.
          const double exact = out_dtype == at::kFloat ? 1e-6 : 0.0;
          EXPECT_GE((error <= exact * (size + 1)).to(at::kDouble).mean().item<double>(), 0.98);
        }
      }
    }
  }
}

}  // namespace
}  // namespace svgear
