// The DiT on CUDA in bf16 (the inference setting) against the fp32 CPU reference.

#include "core/model/wan_dit.h"

#include <iostream>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include "core/attention/dense_backend.h"
#include "tests/model/tiny_wan.h"
#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

constexpr double kBFloat16Tolerance = 2e-2;

TEST(WanDiTCuda, BFloat16MatchesUpstreamFloat32) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const test::TinyWanIo io = test::tiny_wan_io();
  WanDiT dit(test::tiny_wan_config(), test::tiny_wan_weights());
  dit.to(at::kCUDA, at::kBFloat16);
  DenseBackend dense;
  test::RecordingTaps taps;
  DiTForward call;
  call.attention = &dense;
  call.taps = &taps;
  at::Tensor out = dit.forward(io.x.to(at::kCUDA), io.t.to(at::kCUDA), io.context.to(at::kCUDA),
                               call);
  EXPECT_TRUE(out.is_cuda());
  EXPECT_EQ(out.scalar_type(), at::kFloat);
  const double err = test::relative_l2(out, io.out);
  std::cout << "[ measured ] CUDA bf16 out: relative L2 " << err << "\n";
  EXPECT_LE(err, kBFloat16Tolerance);
  EXPECT_TRUE(test::tensors_close(taps.taps.at("blocks.0.self_attn.q"), io.q_roped,
                                  kBFloat16Tolerance));
  EXPECT_TRUE(test::tensors_close(taps.taps.at("blocks.0.self_attn.out"), io.attn_out,
                                  kBFloat16Tolerance));
}

TEST(WanDiTCuda, Float32MatchesUpstream) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const test::TinyWanIo io = test::tiny_wan_io();
  WanDiT dit(test::tiny_wan_config(), test::tiny_wan_weights());
  dit.to(at::kCUDA, at::kFloat);
  DenseBackend dense;
  DiTForward call;
  call.attention = &dense;
  // cuDNN convolutions (the patch embedding) default to TF32, which alone costs ~2.4e-4 on H200;
  // with it off every op is true fp32 (ATen matmuls already are).
  const bool tf32_conv = at::globalContext().allowTF32CuDNN();
  at::globalContext().setAllowTF32CuDNN(false);
  at::Tensor out = dit.forward(io.x.to(at::kCUDA), io.t.to(at::kCUDA), io.context.to(at::kCUDA),
                               call);
  at::globalContext().setAllowTF32CuDNN(tf32_conv);
  std::cout << "[ measured ] CUDA fp32 out: relative L2 " << test::relative_l2(out, io.out) << "\n";
  EXPECT_TRUE(test::tensors_close(out, io.out, 1e-4));
}

}  // namespace
}  // namespace svgear
