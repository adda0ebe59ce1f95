#pragma once
// What hardware and software a run used, in words, for `svgear info` and run records.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>

namespace svgear {

// "NVIDIA H200 (cuda:0, sm_90, 132 SMs, 139.8 GiB)" (a GPU below sm_80 adds that the ops run their
// ATen references there) or the CPU's model name with its thread count.
std::string device_description(const c10::Device& device);
// One line per visible CUDA device; empty without CUDA.
std::vector<std::string> cuda_device_descriptions();
std::string cpu_description();
// Free bytes on a CUDA device: what the driver reports (cudaMemGetInfo) plus what LibTorch's caching
// allocator holds unused; nullopt for the CPU and in builds without CUDA.
std::optional<int64_t> free_device_memory(const c10::Device& device);
// Host memory a new allocation can get without swapping: MemAvailable of /proc/meminfo; nullopt
// where that cannot be read.
std::optional<int64_t> available_host_memory();

}  // namespace svgear
