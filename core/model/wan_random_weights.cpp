#include "core/model/wan_random_weights.h"

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace svgear {

WanWeights wan_random_weights(const WanConfig& config, uint64_t seed) {
  at::Generator generator = at::detail::createCPUGenerator(seed);
  auto normal = [&](at::IntArrayRef shape, double std) {
    return at::normal(0.0, std, shape, generator, at::TensorOptions().dtype(at::kFloat));
  };
  WanWeights w = WanWeights::meta(config);
  // Filled in checkpoint order, so a seed always gives the same tensors.
  w.for_each_tensor_mutable([&](const std::string& name, at::Tensor& tensor, WeightPrecision) {
    const std::vector<int64_t> shape = tensor.sizes().vec();
    if (name.ends_with("modulation")) {
      // Upstream's init: randn / sqrt(dim).
      tensor = normal(shape, 1.0 / std::sqrt(double(config.dim)));
    } else if (name.find("norm") != std::string::npos && name.ends_with(".weight")) {
      tensor = 1.0 + normal(shape, 0.05);  // gains around 1
    } else if (shape.size() == 1) {
      tensor = normal(shape, 0.02);  // biases
    } else {
      // std 1/sqrt(fan_in) keeps every Linear / patch Conv3d output at unit scale.
      const int64_t fan_in = tensor.numel() / shape[0];
      tensor = normal(shape, 1.0 / std::sqrt(double(fan_in)));
    }
  });
  return w;
}

}  // namespace svgear
