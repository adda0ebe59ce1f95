#include "core/pipeline/device_info.h"

#include <algorithm>
#include <fstream>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "svgear/build_config.h"
#include "tests/support/test_paths.h"
#if SVGEAR_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

namespace svgear {
namespace {

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

// A container's memory limit, as cgroup v2 and v1 show it: the headroom is the limit less what is
// used, reclaimable page cache not counted; no limit ("max", v1's ~2^63) is no headroom figure.
TEST(DeviceInfo, ACgroupLimitBoundsTheHostMemory) {
  const auto root = test::scratch_dir("cgroup_headroom");
  const int64_t gib = int64_t(1) << 30;
  write_text(root / "v2" / "self", "0::/box\n");
  write_text(root / "v2" / "fs" / "box" / "memory.max", std::to_string(16 * gib) + "\n");
  write_text(root / "v2" / "fs" / "box" / "memory.current", std::to_string(10 * gib) + "\n");
  write_text(root / "v2" / "fs" / "box" / "memory.stat", "anon 1\ninactive_file " + std::to_string(4 * gib) + "\n");
  EXPECT_EQ(cgroup_memory_headroom(root / "v2" / "self", root / "v2" / "fs"), 10 * gib);  // 16 − (10 − 4)
  write_text(root / "v2" / "fs" / "box" / "memory.max", "max\n");
  EXPECT_EQ(cgroup_memory_headroom(root / "v2" / "self", root / "v2" / "fs"), std::nullopt);

  // v1, seen from inside the container: its own path is not mounted, the mount's root is the group.
  write_text(root / "v1" / "self", "4:memory:/docker/abc\n3:cpu:/\n");
  write_text(root / "v1" / "fs" / "memory" / "memory.limit_in_bytes", std::to_string(8 * gib));
  write_text(root / "v1" / "fs" / "memory" / "memory.usage_in_bytes", std::to_string(7 * gib));
  write_text(root / "v1" / "fs" / "memory" / "memory.stat", "total_inactive_file " + std::to_string(gib));
  EXPECT_EQ(cgroup_memory_headroom(root / "v1" / "self", root / "v1" / "fs"), 2 * gib);
  write_text(root / "v1" / "fs" / "memory" / "memory.limit_in_bytes", "9223372036854771712");
  EXPECT_EQ(cgroup_memory_headroom(root / "v1" / "self", root / "v1" / "fs"), std::nullopt);
  EXPECT_EQ(cgroup_memory_headroom(root / "none", root / "v1" / "fs"), std::nullopt);
}

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
