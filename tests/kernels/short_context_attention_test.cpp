// short_context_attention against a float64 evaluation of softmax(q·kᵀ·scale + w)·v: the reference
// on the CPU, the kernel on the GPU at awkward sizes.

#include "kernels/short_context_attention/short_context_attention.h"

#include <cmath>
#include <iostream>
#include <limits>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

at::Tensor float64_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const std::vector<float>& log_weights, double scale) {
  const at::Tensor w = at::tensor(std::vector<double>(log_weights.begin(), log_weights.end()), at::kDouble);
  const at::Tensor q64 = q.to(at::kCPU, at::kDouble), k64 = k.to(at::kCPU, at::kDouble),
                   v64 = v.to(at::kCPU, at::kDouble);
  return at::matmul(at::softmax(at::matmul(q64, k64.transpose(-2, -1)) * scale + w, -1), v64);
}

std::vector<float> random_log_weights(int64_t keys) {
  const at::Tensor w = at::rand({keys}, at::kFloat) * 6.0f;  // up to e^6 ≈ 400 identical keys
  return std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + keys);
}

TEST(ShortContextAttention, ReferenceMatchesFloat64Formula) {
  at::manual_seed(1);
  for (const int64_t keys : {1, 3, 70}) {
    const at::Tensor q = at::randn({2, 3, 17, 16}), k = at::randn({2, 3, keys, 16}), v = at::randn({2, 3, keys, 16});
    const std::vector<float> w = random_log_weights(keys);
    const at::Tensor out = short_context_attention(q, k, v, w, 0.25);
    EXPECT_EQ(out.sizes(), q.sizes());
    EXPECT_LE(test::relative_l2(out, float64_attention(q, k, v, w, 0.25)), 1e-6) << keys << " keys";
  }
}

// A key of log weight log n is n copies of it.
TEST(ShortContextAttention, LogWeightCountsIdenticalKeys) {
  at::manual_seed(2);
  const at::Tensor q = at::randn({1, 2, 9, 8}), k = at::randn({1, 2, 3, 8}), v = at::randn({1, 2, 3, 8});
  const at::Tensor repeated_k = at::cat({k, k.narrow(2, 2, 1).expand({1, 2, 6, 8})}, 2);
  const at::Tensor repeated_v = at::cat({v, v.narrow(2, 2, 1).expand({1, 2, 6, 8})}, 2);
  const at::Tensor expected = at::scaled_dot_product_attention(q, repeated_k, repeated_v);
  const at::Tensor out = short_context_attention(q, k, v, std::vector<float>{0.0f, 0.0f, std::log(7.0f)}, 1.0 / std::sqrt(8.0));
  EXPECT_LE(test::relative_l2(out, expected), 1e-6);
}

TEST(ShortContextAttention, OutWritesAStridedView) {
  at::manual_seed(3);
  const at::Tensor q = at::randn({1, 3, 10, 8}), k = at::randn({1, 3, 4, 8}), v = at::randn({1, 3, 4, 8});
  const std::vector<float> w = random_log_weights(4);
  at::Tensor storage = at::full({1, 10, 3, 8}, std::numeric_limits<float>::quiet_NaN());
  at::Tensor view = storage.transpose(1, 2);
  short_context_attention_out(view, q, k, v, w, 0.5);
  EXPECT_LE(test::relative_l2(view, float64_attention(q, k, v, w, 0.5)), 1e-6);
}

TEST(ShortContextAttention, RejectsBadInputs) {
  const at::Tensor q = at::randn({1, 2, 5, 8}), k = at::randn({1, 2, 3, 8}), v = at::randn({1, 2, 3, 8});
  EXPECT_STREQ(short_context_kernel_name(at::kCPU, at::kBFloat16, 128, 25), "ATen reference");
  const std::vector<float> w = {0.0f, 0.0f, 1.0f};
  EXPECT_THROW(short_context_attention(q, k, v, std::vector<float>{0.0f, 1.0f}, 1.0), c10::Error);  // a weight short
  EXPECT_THROW(short_context_attention(q, k, v, std::vector<float>{0.0f, 0.0f, INFINITY}, 1.0), c10::Error);
  EXPECT_THROW(short_context_attention(q, k.narrow(2, 0, 0), v.narrow(2, 0, 0), {}, 1.0), c10::Error);  // no key
  EXPECT_THROW(short_context_attention(q, k, v.narrow(3, 0, 4), w, 1.0), c10::Error);
  EXPECT_THROW(short_context_attention(q, k.to(at::kDouble), v, w, 1.0), c10::Error);
  at::Tensor small = at::empty({1, 2, 4, 8});
  EXPECT_THROW(short_context_attention_out(small, q, k, v, w, 1.0), c10::Error);
  at::Tensor into_q = q;
  EXPECT_THROW(short_context_attention_out(into_q, q, k, v, w, 1.0), c10::Error);  // out must not overlap q
}

// The kernel against float64 on fresh inputs: bf16 and fp16, d = 64 and 128, token counts off the
// 16-row tile and the CTA's 32 tiles (1, 15, 17, 1001), key counts from one to the tile's 64, q in
// the DiT's tokens-first layout and out a tokens-first view poisoned with NaN (an unwritten
// element fails). Stated tolerance: 1e-2 relative L2 (bf16 inputs and weights; fp16 is ~8× closer).
TEST(ShortContextAttention, KernelMatchesFloat64OnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(4);
  const at::Device cuda(at::kCUDA, 0);
  for (const at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
    for (const int64_t d : {64, 128}) {
      ASSERT_STREQ(short_context_kernel_name(cuda, dtype, d, 64), "mma.sync");
      for (const int64_t tokens : {1, 15, 17, 1001}) {
        for (const int64_t keys : {1, 2, 17, 25, 64}) {
          const auto f32 = at::TensorOptions().dtype(at::kFloat);
          const at::Tensor q = at::randn({2, tokens, 3, d}, f32).to(cuda, dtype).transpose(1, 2);  // [B, H, N, d]
          const at::Tensor k = at::randn({2, 3, keys, d}, f32).to(cuda, dtype);
          const at::Tensor v = at::randn({2, 3, keys, d}, f32).to(cuda, dtype);
          const std::vector<float> w = random_log_weights(keys);
          const double scale = 1.0 / std::sqrt(double(d));
          at::Tensor storage = at::full({2, tokens, 3, d}, std::numeric_limits<float>::quiet_NaN(),
                                        at::TensorOptions().dtype(dtype).device(cuda));
          at::Tensor out = storage.transpose(1, 2);
          short_context_attention_out(out, q, k, v, w, scale);
          const double err = test::relative_l2(out, float64_attention(q, k, v, w, scale));
          EXPECT_LE(err, 1e-2) << dtype << " d " << d << " tokens " << tokens << " keys " << keys;
          if (tokens == 1001 && keys == 25)
            std::cout << "[ measured ] " << dtype << " d " << d << ", 25 keys: relative L2 " << err << "\n";
        }
      }
    }
  }
}

// Rows the kernel cannot take in place: q and out starting one element into their storage with
// rows d + 1 elements apart (neither 16-byte aligned), so q is copied and out written through a
// temporary.
TEST(ShortContextAttention, MisalignedRowsOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(5);
  const auto options = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
  const int64_t d = 128, tokens = 77, keys = 9;
  const at::Tensor q = at::randn({1, 2, tokens, d + 1}, options).narrow(3, 1, d);
  const at::Tensor k = at::randn({1, 2, keys, d}, options), v = at::randn({1, 2, keys, d}, options);
  const std::vector<float> w = random_log_weights(keys);
  at::Tensor out = at::full({1, 2, tokens, d + 1}, std::numeric_limits<float>::quiet_NaN(), options).narrow(3, 1, d);
  short_context_attention_out(out, q, k, v, w, 0.1);
  EXPECT_LE(test::relative_l2(out, float64_attention(q, k, v, w, 0.1)), 1e-2);
  EXPECT_LE(test::relative_l2(short_context_attention(q, k, v, w, 0.1), float64_attention(q, k, v, w, 0.1)), 1e-2);
}

}  // namespace
}  // namespace svgear
