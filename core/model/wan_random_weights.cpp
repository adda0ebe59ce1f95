#include "core/model/wan_random_weights.h"

#include <cmath>

#include <ATen/ATen.h>

#include "core/weights/random_weight.h"

namespace svgear {

WanWeights wan_random_weights(const WanConfig& config, uint64_t seed, c10::Device device, c10::ScalarType compute) {
  at::Generator generator = seeded_generator(device, seed);
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(device);
  WanWeights w = WanWeights::meta(config);
  // Filled in checkpoint order, so a seed always gives the same tensors.
  w.for_each_tensor_mutable([&](const std::string& name, at::Tensor& tensor, WeightPrecision precision) {
    const std::vector<int64_t> shape = tensor.sizes().vec();
    const at::ScalarType dtype = held_dtype(precision, compute);
    if (name.ends_with("modulation")) {
      // Upstream's init: randn / sqrt(dim).
      tensor = at::normal(0.0, 1.0 / std::sqrt(double(config.dim)), shape, generator, f32).to(dtype);
    } else {
      tensor = random_weight(name, shape, generator, f32.dtype(dtype));
    }
  });
  return w;
}

WanWeights wan_random_weights(const WanConfig& config, uint64_t seed) {
  return wan_random_weights(config, seed, c10::Device(c10::kCPU), at::kFloat);
}

}  // namespace svgear
