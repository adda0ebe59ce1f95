// The DiT on CUDA in bf16 (the inference setting) against the fp32 CPU reference.

#include "core/model/wan_dit.h"

#include <iostream>
#include <set>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include "core/attention/dense_backend.h"
#include "core/model/wan_random_weights.h"
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

// Two weights of one config trade places between the GPU and the host (Wan2.2-A14B's idle expert);
// a swap that stopped midway (out of memory at tensor k) is finished by the next call, whether the
// host side was pageable or page-locked (WanWeights::page_lock).
TEST(WanDiTCuda, SwapPlacesFinishesAMoveThatStoppedMidway) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const c10::Device cuda(c10::kCUDA, 0), cpu(c10::kCPU);
  const WanConfig config = test::tiny_wan_config();
  for (const bool page_locked : {false, true}) {
    SCOPED_TRACE(page_locked ? "page-locked" : "pageable");
    WanWeights leaving = wan_random_weights(config, 1, cuda, at::kBFloat16);
    WanWeights arriving = wan_random_weights(config, 2, cuda, at::kBFloat16);
    arriving.to(cpu, at::kBFloat16);
    if (page_locked) {
      ASSERT_TRUE(arriving.page_lock(cuda));
    }
    const auto values = [cpu](const WanWeights& w) {
      std::vector<at::Tensor> out;
      // A copy, never an alias of a float32 host tensor whose memory a swap reuses.
      for (const auto& [name, tensor] : w.state_dict()) out.push_back(tensor.to(cpu, at::kFloat, false, /*copy=*/true));
      return out;
    };
    const std::vector<at::Tensor> leaving_values = values(leaving), arriving_values = values(arriving);
    // As a failure at tensor k leaves them: the first k of `leaving` on the host, k − 1 of `arriving` on the GPU.
    const size_t k = leaving_values.size() / 2;
    size_t i = 0;
    leaving.for_each_tensor_mutable([&](const std::string&, at::Tensor& t, WeightPrecision) {
      if (i++ < k) t = t.to(cpu);
    });
    i = 0;
    arriving.for_each_tensor_mutable([&](const std::string&, at::Tensor& t, WeightPrecision) {
      if (i++ + 1 < k) t = t.to(cuda);
    });
    WanWeights::swap_places(leaving, arriving, cuda, at::kBFloat16);
    for (const auto& [name, tensor] : leaving.state_dict()) EXPECT_TRUE(tensor.device().is_cpu()) << name;
    for (const auto& [name, tensor] : arriving.state_dict()) EXPECT_EQ(tensor.device(), cuda) << name;
    const std::vector<at::Tensor> leaving_after = values(leaving), arriving_after = values(arriving);
    for (size_t j = 0; j < leaving_values.size(); ++j) {
      EXPECT_TRUE(at::equal(leaving_after[j], leaving_values[j])) << j;
      EXPECT_TRUE(at::equal(arriving_after[j], arriving_values[j])) << j;
    }
  }
}

// Page-locked weights on the host (page_lock, the idle expert's home: their own memory, locked in
// place) lend each tensor's memory to the one that leaves the GPU in its place: after a swap the
// host side is page-locked and sits in exactly the memory the arriving weights held, and a second
// swap brings everything back unchanged.
TEST(WanDiTCuda, SwapPlacesTradesPageLockedHostMemory) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const c10::Device cuda(c10::kCUDA, 0), cpu(c10::kCPU);
  const WanConfig config = test::tiny_wan_config();
  WanWeights on_gpu = wan_random_weights(config, 1, cuda, at::kBFloat16);
  WanWeights on_host = wan_random_weights(config, 2, cuda, at::kBFloat16);
  on_host.to(cpu, at::kBFloat16);
  const auto values = [cpu](const WanWeights& w) {
    std::vector<at::Tensor> out;
    // A copy, never an alias of a float32 host tensor whose memory a swap reuses.
    for (const auto& [name, tensor] : w.state_dict()) out.push_back(tensor.to(cpu, at::kFloat, false, /*copy=*/true));
    return out;
  };
  const auto host_memory = [](const WanWeights& w) {
    std::set<const void*> out;
    for (const auto& [name, tensor] : w.state_dict()) {
      EXPECT_TRUE(tensor.device().is_cpu() && tensor.is_pinned()) << name;
      out.insert(tensor.data_ptr());
    }
    return out;
  };
  const std::vector<at::Tensor> gpu_values = values(on_gpu), host_values = values(on_host);
  std::set<const void*> pageable;
  for (const auto& [name, tensor] : on_host.state_dict()) pageable.insert(tensor.data_ptr());
  ASSERT_TRUE(on_host.page_lock(cuda));
  const std::set<const void*> locked = host_memory(on_host);
  EXPECT_EQ(locked, pageable);  // locked in place, not copied
  const std::vector<at::Tensor> locked_values = values(on_host);
  for (size_t j = 0; j < host_values.size(); ++j) EXPECT_TRUE(at::equal(locked_values[j], host_values[j])) << j;

  WanWeights::swap_places(on_gpu, on_host, cuda, at::kBFloat16);
  EXPECT_EQ(host_memory(on_gpu), locked);
  for (const auto& [name, tensor] : on_host.state_dict()) EXPECT_EQ(tensor.device(), cuda) << name;
  std::vector<at::Tensor> left = values(on_gpu), arrived = values(on_host);
  for (size_t j = 0; j < gpu_values.size(); ++j) {
    EXPECT_TRUE(at::equal(left[j], gpu_values[j])) << j;
    EXPECT_TRUE(at::equal(arrived[j], host_values[j])) << j;
  }

  WanWeights::swap_places(on_host, on_gpu, cuda, at::kBFloat16);
  EXPECT_EQ(host_memory(on_host), locked);
  left = values(on_host);
  arrived = values(on_gpu);
  for (size_t j = 0; j < gpu_values.size(); ++j) {
    EXPECT_TRUE(at::equal(left[j], host_values[j])) << j;
    EXPECT_TRUE(at::equal(arrived[j], gpu_values[j])) << j;
  }
}

}  // namespace
}  // namespace svgear
