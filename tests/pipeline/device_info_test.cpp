#include "core/pipeline/device_info.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace svgear {
namespace {

// Memory LibTorch's caching allocator keeps after a tensor is freed counts as free: the studio loads
// several models in one process, and the second must not be refused for what the first left cached.
TEST(DeviceInfo, MemoryTheAllocatorCachesCountsAsFree) {
  EXPECT_FALSE(free_device_memory(c10::Device(c10::kCPU)).has_value());
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const c10::Device cuda(c10::kCUDA, 0);
  const int64_t before = free_device_memory(cuda).value();
  const int64_t bytes = int64_t(2) << 30;
  {
    const at::Tensor block = at::empty({bytes}, at::TensorOptions().dtype(at::kByte).device(cuda));
    EXPECT_LT(free_device_memory(cuda).value(), before - bytes / 2);
  }
  // Freed, but cached by the allocator: the driver still counts it as used.
  EXPECT_GT(free_device_memory(cuda).value(), before - bytes / 8);
}

}  // namespace
}  // namespace svgear
