#include "core/pipeline/device_info.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "kernels/common/kernel_path.h"
#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace svgear {

std::string cpu_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::string name = "unknown CPU";
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) name = line.substr(colon + 2);
      break;
    }
  }
  return name + " (" + std::to_string(std::thread::hardware_concurrency()) + " threads, " +
         std::to_string(at::get_num_threads()) + " used by LibTorch)";
}

std::vector<std::string> cuda_device_descriptions() {
  std::vector<std::string> out;
#if SVGEAR_HAVE_CUDA
  if (!at::hasCUDA()) return out;
  for (int i = 0; i < at::cuda::device_count(); ++i) {
    const cudaDeviceProp* p = at::cuda::getDeviceProperties(i);
    char line[512];
    std::snprintf(line, sizeof line, "%s (cuda:%d, sm_%d%d, %d SMs, %.1f GiB%s)", p->name, i, p->major,
                  p->minor, p->multiProcessorCount, double(p->totalGlobalMem) / (1 << 30),
                  p->major < kKernelsMinComputeMajor ? "; no kernels below sm_80: ATen references" : "");
    out.push_back(line);
  }
#endif
  return out;
}

std::optional<int64_t> free_device_memory(const c10::Device& device) {
#if SVGEAR_HAVE_CUDA
  if (device.is_cuda() && at::hasCUDA()) {
    const c10::DeviceIndex index = device.has_index() ? device.index() : 0;
    c10::cuda::CUDAGuard guard(index);
    size_t free = 0;
    size_t total = 0;
    C10_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    // Blocks LibTorch's caching allocator holds but no tensor uses (a model freed in this process,
    // a finished run's activations) are free for the next model too; the driver counts them as used.
    // The allocator's per-device state exists only once LibTorch has set CUDA up (reading its stats
    // before that aborted the process on the H200 when nothing had touched CUDA yet).
    at::globalContext().lazyInitDevice(c10::DeviceType::CUDA);
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
    constexpr auto kAll = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    return int64_t(free) + stats.reserved_bytes[kAll].current - stats.allocated_bytes[kAll].current;
  }
#endif
  (void)device;
  return std::nullopt;
}

namespace {

// The first number in `file` (a cgroup file holds one), or nullopt ("max", missing, unreadable).
std::optional<int64_t> read_number(const std::filesystem::path& file) {
  std::ifstream in(file);
  long long value = 0;
  if (in >> value) return int64_t(value);
  return std::nullopt;
}

// `key`'s value in a cgroup memory.stat.
std::optional<int64_t> stat_value(const std::filesystem::path& file, const std::string& key) {
  std::ifstream in(file);
  std::string name;
  long long value = 0;
  while (in >> name >> value) {
    if (name == key) return int64_t(value);
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> cgroup_memory_headroom(const std::filesystem::path& cgroup_list,
                                              const std::filesystem::path& mount) {
  constexpr int64_t kUnlimited = int64_t(1) << 60;  // v1 writes "no limit" as ~2^63
  std::ifstream groups(cgroup_list);
  std::optional<int64_t> headroom;
  for (std::string line; std::getline(groups, line);) {
    const size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    const bool v2 = controllers.empty();
    if (!v2 && controllers.find("memory") == std::string::npos) continue;
    const std::filesystem::path root = v2 ? mount : mount / "memory";
    // The process's own group where the mount shows it, else the mount's root (a container's view).
    std::error_code ec;
    std::filesystem::path group = root / std::filesystem::path(path).relative_path();
    if (!std::filesystem::is_directory(group, ec)) group = root;
    const auto limit = read_number(group / (v2 ? "memory.max" : "memory.limit_in_bytes"));
    const auto used = read_number(group / (v2 ? "memory.current" : "memory.usage_in_bytes"));
    if (!limit || !used || *limit >= kUnlimited) continue;
    const int64_t cache = stat_value(group / "memory.stat", v2 ? "inactive_file" : "total_inactive_file").value_or(0);
    const int64_t room = std::max<int64_t>(0, *limit - std::max<int64_t>(0, *used - cache));
    headroom = headroom ? std::min(*headroom, room) : room;
  }
  return headroom;
}

std::optional<int64_t> available_host_memory() {
  std::optional<int64_t> available;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    long long kib = 0;
    if (std::sscanf(line.c_str(), "MemAvailable: %lld kB", &kib) == 1) {
      available = int64_t(kib) * 1024;
      break;
    }
  }
  if (const auto headroom = cgroup_memory_headroom("/proc/self/cgroup", "/sys/fs/cgroup")) available = available ? std::min(*available, *headroom) : *headroom;
  return available;
}

size_t decoded_video_budget() {
  const std::optional<int64_t> available = available_host_memory();
  return available && *available > 0 ? size_t(*available) / 4 * 3 : std::numeric_limits<size_t>::max();
}

std::string device_description(const c10::Device& device) {
  if (device.is_cuda()) {
    const auto all = cuda_device_descriptions();
    const int index = device.has_index() ? device.index() : 0;
    if (index < int(all.size())) return all[index];
    return device.str();
  }
  return cpu_description();
}

}  // namespace svgear
