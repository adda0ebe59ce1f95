#include "core/pipeline/device_info.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "svgear/build_config.h"
#if SVGEAR_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

namespace svgear {
namespace {

// Memory LibTorch's caching allocator keeps after a tensor is freed counts as free: the studio loads
// several models in one process, and the second must not be refused for what the first left cached.
TEST(DeviceInfo, MemoryTheAllocatorCachesCountsAsFree) {
  EXPECT_FALSE(free_device_memory(c10::Device(c10::kCPU)).has_value());
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
#if SVGEAR_HAVE_CUDA
  const c10::Device cuda(c10::kCUDA, 0);
  const int64_t bytes = int64_t(1) << 30;
  { const at::Tensor block = at::empty({bytes}, at::TensorOptions().dtype(at::kByte).device(cuda)); }
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
  constexpr auto kAll = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
  const int64_t cached = stats.reserved_bytes[kAll].current - stats.allocated_bytes[kAll].current;
  ASSERT_GE(cached, bytes) << "LibTorch did not keep the freed block";
  // The driver's figure moves with other processes (ctest runs GPU tests side by side), so the
  // reading less what is cached must lie between two driver readings taken around it.
  bool bracketed = false;
  int64_t got = 0;
  size_t before = 0, after = 0, total = 0;
  for (int attempt = 0; attempt < 5 && !bracketed; ++attempt) {
    ASSERT_EQ(cudaMemGetInfo(&before, &total), cudaSuccess);
    got = free_device_memory(cuda).value() - cached;
    ASSERT_EQ(cudaMemGetInfo(&after, &total), cudaSuccess);
    bracketed = got >= int64_t(std::min(before, after)) && got <= int64_t(std::max(before, after));
  }
  EXPECT_TRUE(bracketed) << "free_device_memory − cached " << got << ", the driver's free " << before << " / "
                         << after;
#endif
}

}  // namespace
}  // namespace svgear
