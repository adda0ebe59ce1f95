// The umT5 encoder on CUDA against the fp32 CPU reference; skipped without a GPU.

#include "core/text/umt5_encoder.h"

#include <iostream>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include "tests/support/tensor_compare.h"
#include "tests/text/tiny_umt5.h"

namespace svgear {
namespace {

TEST(Umt5EncoderCuda, Float32MatchesUpstream) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const test::TinyUmt5Io io = test::tiny_umt5_io();
  Umt5Encoder encoder(test::tiny_umt5_weights(at::kCUDA, at::kFloat));
  const at::Tensor out = encoder.forward(io.ids.to(at::kCUDA), io.mask.to(at::kCUDA));
  EXPECT_TRUE(out.is_cuda());
  const double err = test::relative_l2(out, io.out);
  std::cout << "[ measured ] umT5 CUDA fp32: relative L2 " << err << "\n";
  EXPECT_LE(err, 1e-4);
}

TEST(Umt5EncoderCuda, BFloat16MatchesUpstreamFloat32) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const test::TinyUmt5Io io = test::tiny_umt5_io();
  Umt5Encoder encoder(test::tiny_umt5_weights(at::kCUDA, at::kBFloat16));
  const at::Tensor out = encoder.forward(io.ids.to(at::kCUDA), io.mask.to(at::kCUDA));
  EXPECT_EQ(out.scalar_type(), at::kBFloat16);
  const double err = test::relative_l2(out, io.out);
  std::cout << "[ measured ] umT5 CUDA bf16: relative L2 " << err << "\n";
  EXPECT_LE(err, 2e-2);  // bf16 keeps 8 mantissa bits: ~4e-3 per rounding, a few roundings deep
}

}  // namespace
}  // namespace svgear
