#include "core/bench/measurement.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <ATen/DeviceAccelerator.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <cuda_profiler_api.h>
#endif

namespace svgear {

void synchronize(c10::Device device) {
  if (device.is_cuda()) at::accelerator::synchronizeDevice(device.index());
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

double relative_l2(const at::Tensor& a, const at::Tensor& reference) {
  const at::Tensor r = reference.to(at::kCPU, at::kDouble);
  return (a.to(at::kCPU, at::kDouble) - r).norm().item<double>() / std::max(r.norm().item<double>(), 1e-300);
}

void cuda_profiler(bool start) {
#if SVGEAR_HAVE_CUDA
  if (start) {
    cudaProfilerStart();
  } else {
    cudaProfilerStop();
  }
#else
  (void)start;
#endif
}

}  // namespace svgear
