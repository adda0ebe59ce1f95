#pragma once
// What the benchmarks share to measure: a device barrier around timed work, the median of the
// repeats, the relative L2 error of an output against its dense reference, and the CUDA
// profiler's capture range.

#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace svgear {

// Waits for the device's queued work (a no-op on the CPU), so a host clock measures the work.
void synchronize(c10::Device device);
double median(std::vector<double> values);
// ||a − reference|| / ||reference||, in float64 on the CPU.
double relative_l2(const at::Tensor& a, const at::Tensor& reference);
// Starts or stops the CUDA profiler's capture, so `ncu --profile-from-start off` profiles exactly
// the work between (packaging/gpu/profile-kernels.sh). No effect without a profiler attached or
// in a build without CUDA.
void cuda_profiler(bool start);

}  // namespace svgear
