#include "tests/support/slow_stream_work.h"

#include <ATen/ATen.h>

namespace svgear::test {

at::Tensor zero_after_slow_work(c10::Device device, c10::ScalarType dtype) {
  const bool gpu = device.is_cuda();
  const int64_t n = gpu ? 4096 : 8;
  at::Tensor ones = at::ones({n, n}, at::TensorOptions(device));
  for (int i = 0; i < (gpu ? 8 : 1); ++i) ones = at::mm(ones, ones) / double(n);  // stays all ones
  return (ones.sum() * 0).to(dtype);
}

}  // namespace svgear::test
