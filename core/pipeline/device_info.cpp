#include "core/pipeline/device_info.h"

#include <cstdio>
#include <fstream>
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

std::optional<int64_t> available_host_memory() {
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    long long kib = 0;
    if (std::sscanf(line.c_str(), "MemAvailable: %lld kB", &kib) == 1) return int64_t(kib) * 1024;
  }
  return std::nullopt;
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
