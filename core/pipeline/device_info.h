#pragma once
// What hardware and software a run used, in words, for `svgear info` and run records.

#include <string>
#include <vector>

#include <c10/core/Device.h>

namespace svgear {

// "NVIDIA H100 80GB HBM3 (cuda:0, 79.2 GiB)" or the CPU's model name with its thread count.
std::string device_description(const c10::Device& device);
// One line per visible CUDA device; empty without CUDA.
std::vector<std::string> cuda_device_descriptions();
std::string cpu_description();

}  // namespace svgear
