// Cross-attention over a text context with upstream's padding folded into one counted row, against
// SDPA over the rows spelled out as upstream's context.

#include "core/model/text_context.h"

#include <iostream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

// q [B, H, N, d] stored tokens first (as the DiT's); k, v [B, H, real + 1, d], the last row the
// padding row.
struct CrossInputs {
  at::Tensor q, k, v;
};

CrossInputs random_inputs(int64_t batch, int64_t heads, int64_t tokens, int64_t real, int64_t head_dim,
                          at::ScalarType dtype, at::Device device) {
  const auto options = at::TensorOptions().dtype(at::kFloat);
  return {at::randn({batch, tokens, heads, head_dim}, options).to(device, dtype).transpose(1, 2),
          at::randn({batch, heads, real + 1, head_dim}, options).to(device, dtype),
          at::randn({batch, heads, real + 1, head_dim}, options).to(device, dtype)};
}

// Upstream: the padding row `padding` times, SDPA in float64 on the CPU, heads merged.
at::Tensor spelled_out_reference(const CrossInputs& in, int64_t padding) {
  const at::Tensor q = in.q.to(at::kCPU, at::kDouble), k = in.k.to(at::kCPU, at::kDouble),
                   v = in.v.to(at::kCPU, at::kDouble);
  const int64_t real = k.size(2) - 1;
  const auto spelled_out = [&](const at::Tensor& x) {
    return at::cat({x.narrow(2, 0, real), x.narrow(2, real, 1).expand({x.size(0), x.size(1), padding, x.size(3)})}, 2);
  };
  const at::Tensor o = at::scaled_dot_product_attention(q, spelled_out(k), spelled_out(v));  // [B, H, N, d]
  return o.transpose(1, 2).reshape({q.size(0), q.size(2), q.size(1) * q.size(3)});
}

TEST(TextCrossAttention, CountedPaddingRowIsTheSpelledOutContextOnCpu) {
  at::manual_seed(3);
  // One real row (the empty prompt's EOS), a short prompt, more rows than the GPU kernel's 64; a
  // padding of one row (the row itself), a few, and Wan's 512 − 24.
  for (const int64_t real : {1, 24, 70}) {
    for (const int64_t padding : {1, 5, 488}) {
      const CrossInputs in = random_inputs(2, 3, 37, real, 16, at::kFloat, at::kCPU);
      const at::Tensor out = text_cross_attention(in.q, in.k, in.v, padding);
      EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 37, 48}));
      EXPECT_TRUE(test::tensors_close(out, spelled_out_reference(in, padding), 1e-5))
          << "real " << real << ", padding " << padding;
    }
  }
}

TEST(TextCrossAttention, WithoutPaddingIsPlainAttention) {
  at::manual_seed(4);
  const CrossInputs in = random_inputs(1, 2, 20, 6, 8, at::kFloat, at::kCPU);
  const at::Tensor expected = at::scaled_dot_product_attention(in.q, in.k, in.v).transpose(1, 2).reshape({1, 20, 16});
  EXPECT_TRUE(test::tensors_close(text_cross_attention(in.q, in.k, in.v, 0), expected, 1e-6));
}

// The trainer's path: gradients reach q, k and v, and they are upstream's.
TEST(TextCrossAttention, GradientsFlowAsThroughTheSpelledOutContext) {
  at::manual_seed(5);
  const CrossInputs in = random_inputs(1, 2, 11, 4, 8, at::kFloat, at::kCPU);
  const auto gradients = [&](bool folded) {
    at::Tensor q = in.q.detach().clone().requires_grad_(), k = in.k.clone().requires_grad_(),
               v = in.v.clone().requires_grad_();
    at::Tensor out;
    if (folded) {
      out = text_cross_attention(q, k, v, 9);
    } else {
      const auto spelled_out = [](const at::Tensor& x) {
        return at::cat({x.narrow(2, 0, 4), x.narrow(2, 4, 1).expand({1, 2, 9, 8})}, 2);
      };
      out = at::scaled_dot_product_attention(q, spelled_out(k), spelled_out(v));
    }
    out.square().sum().backward();
    return std::vector<at::Tensor>{q.grad(), k.grad(), v.grad()};
  };
  const std::vector<at::Tensor> folded = gradients(true), upstream = gradients(false);
  for (size_t i = 0; i < folded.size(); ++i) {
    ASSERT_TRUE(folded[i].defined());
    EXPECT_TRUE(test::tensors_close(folded[i], upstream[i], 1e-5)) << "input " << i;
  }
}

// A context of the padding row alone (no real row) attends to it alone.
TEST(TextCrossAttention, PaddingRowAloneGivesItsValue) {
  at::manual_seed(6);
  const CrossInputs in = random_inputs(1, 2, 9, 0, 8, at::kFloat, at::kCPU);
  const at::Tensor value = in.v.expand({1, 2, 9, 8}).transpose(1, 2).reshape({1, 9, 16});
  EXPECT_TRUE(test::tensors_close(text_cross_attention(in.q, in.k, in.v, 16), value, 1e-6));
}

TEST(TextCrossAttention, RejectsMismatchedInputs) {
  const CrossInputs in = random_inputs(1, 2, 9, 3, 8, at::kFloat, at::kCPU);
  EXPECT_THROW(text_cross_attention(in.q, in.k.narrow(1, 0, 1), in.v, 5), c10::Error);
  EXPECT_THROW(text_cross_attention(in.q, in.k, in.v, -1), c10::Error);
  EXPECT_THROW(text_cross_attention(in.q, in.k.narrow(2, 0, 0), in.v.narrow(2, 0, 0), 5), c10::Error);
}

// On the GPU in bf16, the DiT's sizes: the short context through the kernel, and a context longer
// than the kernel's 64 keys through SDPA over the spelled-out rows; stated tolerance 1e-2 (bf16).
TEST(TextCrossAttention, MatchesFloat64OnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(7);
  const at::Device cuda(at::kCUDA, 0);
  for (const int64_t real : {1, 24, 100}) {
    const CrossInputs in = random_inputs(1, 12, 1001, real, 128, at::kBFloat16, cuda);
    const at::Tensor out = text_cross_attention(in.q, in.k, in.v, 512 - real);
    ASSERT_TRUE(out.is_cuda());
    const double err = test::relative_l2(out, spelled_out_reference(in, 512 - real));
    std::cout << "[ measured ] cross-attention, " << real << " real rows: relative L2 " << err << "\n";
    EXPECT_LE(err, 1e-2);
  }
}

}  // namespace
}  // namespace svgear
