#include "core/pipeline/out_of_memory.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/allocation_failure.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/random_model.h"
#include "tests/support/peak_cpu_allocator.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// What a step holds on the CPU, measured by the allocator, lies between the lower bound and the
// estimate a CPU run is checked against (an estimate below it lets a request start that the
// kernel's out-of-memory killer then ends, without a word: 8192² × 1 frame on shapes-s did).
TEST(OutOfMemory, HostStepBytesCoverAMeasuredStep) {
  test::PeakCpuAllocator& counting = test::PeakCpuAllocator::installed();
  for (const auto& [preset, size] : {std::pair{"tiny", 128}, std::pair{"small", 64}}) {
    const auto folder = test::scratch_dir(std::string("oom_measure_") + preset);
    write_random_model(folder, random_model_preset(preset));
    auto model = Model::load(folder, c10::Device(c10::kCPU));
    for (const bool guidance : {false, true}) {
      GenerationRequest r;
      r.prompt = "a red circle moves left";
      r.steps = 1;
      r.width = size;
      r.height = size;
      r.frames = 16;
      r.guidance = guidance ? 3.0 : 1.0;
      r.preview_every = 0;
      EventSink quiet;
      CancelToken cancel;
      Generator generator(*model);
      const int64_t start = counting.restart();
      ASSERT_EQ(generator.run(r, quiet, cancel).status, GenerationStatus::Finished);
      const int64_t held = counting.peak() - start;
      const LatentShape latent{3, 16, size, size};
      const int64_t least = least_step_bytes(latent, model->manifest.dit, at::kFloat, guidance);
      const int64_t host = host_step_bytes(latent, model->manifest.dit, at::kFloat, guidance);
      std::printf("[ measured ] %s %dx%dx16, guidance %d: %lld bytes held at the peak; least %lld, host estimate %lld\n",
                  preset, size, size, int(guidance), (long long)held, (long long)least, (long long)host);
      EXPECT_GT(held, least) << preset;
      EXPECT_GE(host, held) << preset;
      EXPECT_LT(host, held * 3 / 2) << preset << ": an estimate far above the step refuses runs that fit";
    }
  }
  EXPECT_EQ(step_bytes_to_check({3, 16, 64, 64}, WanConfig{}, at::kFloat, true, c10::Device(c10::kCPU)),
            host_step_bytes({3, 16, 64, 64}, WanConfig{}, at::kFloat, true));
  EXPECT_EQ(step_bytes_to_check({3, 16, 64, 64}, WanConfig{}, at::kFloat, true, c10::Device(c10::kCUDA, 0)),
            least_step_bytes({3, 16, 64, 64}, WanConfig{}, at::kFloat, true));
}

// Wan2.1-1.3B at 480p × 81: latent 16 × 21 × 60 × 104, 21 × 30 × 52 tokens.
TEST(OutOfMemory, LeastStepBytesCountTheSampleTheStreamsAndOneFfnHidden) {
  const LatentShape latent{16, 21, 60, 104};
  const WanConfig dit;  // Wan2.1-T2V-1.3B: dim 1536, FFN 8960, patch 1 × 2 × 2
  const TokenGrid grid = dit.token_grid(latent.frames, latent.height, latent.width);
  EXPECT_EQ(grid.frames, 21);
  EXPECT_EQ(grid.height, 30);
  EXPECT_EQ(grid.width, 52);
  EXPECT_EQ(grid.tokens(), 32760);
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
c10::Error thrown(const std::string& message) {
  try {
    TORCH_CHECK(false, message);
  } catch (const c10::Error& e) {
    return e;
  }
  throw std::logic_error("TORCH_CHECK(false) did not throw");
}

TEST(OutOfMemory, TheCpuAllocatorsFailureIsRecognised) {
  EXPECT_TRUE(is_host_allocation_failure(thrown(
      "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to "
      "allocate 32413581312 bytes. Error code 12 (Cannot allocate memory)")));
  EXPECT_TRUE(is_host_allocation_failure(
      thrown("DefaultCPUAllocator: not enough memory: you tried to allocate 32413581312 bytes.")));
  EXPECT_FALSE(is_host_allocation_failure(thrown("shape '[3]' is invalid for input of size 2")));
  EXPECT_FALSE(is_host_allocation_failure(thrown("can't allocate memory for the lookup table")));
}

// GPU allocations outside the caching allocator fail as plain c10::Errors too: cuBLAS's handle
// (the text PyTorch prints for it), cuDNN's own memory, and the CUDA runtime's. On a GPU each is
// that GPU's out of memory, so the VAE falls back to tiles and the dense attention keeps cuDNN, also
// where the work's device is the CPU (a Wan VAE on a GPU beside a DiT on the CPU); another library
// status is another error.
TEST(OutOfMemory, AGpuLibrarysAllocationFailureIsTheGpusOutOfMemory) {
  const c10::Error cublas = thrown("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`");
  // cuDNN 9's names, as cudnnGetErrorString prints them (cudnn_graph.h: 4004 and 4003).
  const c10::Error cudnn = thrown("cuDNN error: CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED");
  const c10::Error runtime = thrown("CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported");
  const c10::Error other = thrown("CUDA error: CUBLAS_STATUS_EXECUTION_FAILED when calling `cublasGemmEx`");
  for (const c10::Error* e : {&cublas, &cudnn, &runtime}) {
    EXPECT_TRUE(is_gpu_library_allocation_failure(*e)) << e->what_without_backtrace();
    EXPECT_TRUE(is_gpu_allocation_failure(*e));
    EXPECT_FALSE(is_host_allocation_failure(*e));
    EXPECT_EQ(out_of_memory_on(*e, c10::Device(c10::kCUDA, 1)), c10::Device(c10::kCUDA, 1));
    EXPECT_EQ(out_of_memory_on(*e, c10::Device(c10::kCPU)), c10::Device(c10::kCUDA));
  }
  EXPECT_FALSE(is_gpu_allocation_failure(other));
  EXPECT_EQ(out_of_memory_on(other, c10::Device(c10::kCUDA, 0)), std::nullopt);
  EXPECT_FALSE(is_gpu_allocation_failure(thrown("DefaultCPUAllocator: not enough memory: you tried to allocate 8 bytes.")));
  const c10::Error cudnn_host = thrown("cuDNN error: CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED");
  EXPECT_FALSE(is_gpu_allocation_failure(cudnn_host));
  EXPECT_TRUE(is_host_allocation_failure(cudnn_host));
  EXPECT_EQ(out_of_memory_on(cudnn_host, c10::Device(c10::kCUDA, 0)), c10::Device(c10::kCPU));
  // The caching allocator's own failure stays what it was.
  const c10::OutOfMemoryError caching({"f", "file.cpp", 1}, "CUDA out of memory. Tried to allocate 2.00 GiB");
  EXPECT_TRUE(is_gpu_allocation_failure(caching));
  EXPECT_EQ(out_of_memory_on(caching, c10::Device(c10::kCUDA, 0)), c10::Device(c10::kCUDA, 0));
}

}  // namespace
}  // namespace svgear
