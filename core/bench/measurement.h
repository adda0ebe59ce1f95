#pragma once
// What the benchmarks share to measure: a device barrier around timed work, the median of the
// repeats, and the relative L2 error of an output against its dense reference.

#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace svgear {

// Waits for the device's queued work (a no-op on the CPU), so a host clock measures the work.
void synchronize(c10::Device device);
double median(std::vector<double> values);
// ||a − reference|| / ||reference||, in float64 on the CPU.
double relative_l2(const at::Tensor& a, const at::Tensor& reference);

}  // namespace svgear
