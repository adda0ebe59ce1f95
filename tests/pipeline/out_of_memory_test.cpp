#include "core/pipeline/out_of_memory.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace svgear {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Wan2.1-1.3B at 480p × 81: latent 16 × 21 × 60 × 104, 21 × 30 × 52 tokens.
TEST(OutOfMemory, LeastStepBytesCountTheSampleTheStreamsAndOneFfnHidden) {
  const LatentShape latent{16, 21, 60, 104};
  const WanConfig dit;  // Wan2.1-T2V-1.3B: dim 1536, FFN 8960, patch 1 × 2 × 2
  EXPECT_EQ(step_tokens(latent, dit), 32760);
  const int64_t sample = 16LL * 21 * 60 * 104;
  // The sample in float32 and bf16; per token the float32 stream (1536 × 4) and the bf16 hidden
  // (8960 × 2), and with guidance the prefix's float32 stream and bf16 branch (1536 × 6).
  EXPECT_EQ(least_step_bytes(latent, dit, at::kBFloat16, false), sample * 6 + 32760LL * (1536 * 4 + 8960 * 2));
  EXPECT_EQ(least_step_bytes(latent, dit, at::kBFloat16, true),
            sample * 6 + 32760LL * (1536 * 4 + 8960 * 2 + 1536 * 6));
  EXPECT_EQ(least_step_bytes(latent, dit, at::kFloat, false), sample * 4 + 32760LL * (1536 * 4 + 8960 * 4));
}

TEST(OutOfMemory, AShortfallSaysWhatItNeedsWhatIsThereAndWhatToLower) {
  const int64_t gib = int64_t(1) << 30;
  const c10::Device cpu(c10::kCPU);
  EXPECT_EQ(step_memory_shortfall(3 * gib, 4 * gib, 1000, cpu), "");
  EXPECT_EQ(step_memory_shortfall(3 * gib, std::nullopt, 1000, cpu), "") << "unknown memory refuses nothing";
  EXPECT_TRUE(contains(step_memory_shortfall(2 * gib, gib, 999, cpu), ": 999 tokens"));
  const std::string cpu_message = step_memory_shortfall(12 * gib, 3 * gib, 123456, cpu);
  EXPECT_TRUE(contains(cpu_message, "out of memory on cpu")) << cpu_message;
  EXPECT_TRUE(contains(cpu_message, "123,456 tokens")) << cpu_message;
  EXPECT_TRUE(contains(cpu_message, "12.0 GiB")) << cpu_message;
  EXPECT_TRUE(contains(cpu_message, "3.0 GiB are available")) << cpu_message;
  EXPECT_TRUE(contains(cpu_message, "lower the frames or the resolution")) << cpu_message;
  const std::string gpu_message = step_memory_shortfall(12 * gib, 3 * gib, 1234567, c10::Device(c10::kCUDA, 1));
  EXPECT_TRUE(contains(gpu_message, "out of memory on cuda:1: 1,234,567 tokens")) << gpu_message;
  EXPECT_TRUE(contains(gpu_message, "3.0 GiB are free")) << gpu_message;
}

// The model's remedies (what else frees its GPU) follow what to lower, in order; the CPU comes last.
TEST(OutOfMemory, MessagesListTheModelsRemediesAfterWhatToLower) {
  const int64_t gib = int64_t(1) << 30;
  const c10::Device gpu(c10::kCUDA, 0);
  const std::vector<std::string> remedies = {"keep A off the GPU", "decode on B"};
  EXPECT_TRUE(contains(step_memory_shortfall(12 * gib, 3 * gib, 10, gpu, remedies),
                       "are free: lower the frames or the resolution, or keep A off the GPU, or decode on B"));
  EXPECT_EQ(out_of_memory_message(gpu, remedies),
            "out of memory on cuda:0: lower the frames or the resolution, or keep A off the GPU, or decode on B, "
            "or use the CPU");
  EXPECT_EQ(out_of_memory_message(gpu), "out of memory on cuda:0: lower the frames or the resolution, or use the CPU");
  EXPECT_EQ(out_of_memory_message(c10::Device(c10::kCPU)), "out of memory on cpu: lower the frames or the resolution");
}

// The CPU allocator's failures as LibTorch throws them: plain c10::Errors, whose text changed
// between versions (2.11's, as a too-large request printed it here; the older one). Every error is
// thrown here by TORCH_CHECK: on the GPU machine's image a real petabyte allocation aborted in
// glibc instead of throwing, and so did ATen's own message for a bad view (a std::locale freed
// by the wrong runtime; docs/gpu-runs.md, thirty-first session).
TEST(OutOfMemory, TheCpuAllocatorsFailureIsRecognised) {
  const auto thrown = [](const std::string& message) -> c10::Error {
    try {
      TORCH_CHECK(false, message);
    } catch (const c10::Error& e) {
      return e;
    }
    throw std::logic_error("TORCH_CHECK(false) did not throw");
  };
  EXPECT_TRUE(is_host_allocation_failure(thrown(
      "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to "
      "allocate 32413581312 bytes. Error code 12 (Cannot allocate memory)")));
  EXPECT_TRUE(is_host_allocation_failure(
      thrown("DefaultCPUAllocator: not enough memory: you tried to allocate 32413581312 bytes.")));
  EXPECT_FALSE(is_host_allocation_failure(thrown("shape '[3]' is invalid for input of size 2")));
  EXPECT_FALSE(is_host_allocation_failure(thrown("can't allocate memory for the lookup table")));
}

}  // namespace
}  // namespace svgear
