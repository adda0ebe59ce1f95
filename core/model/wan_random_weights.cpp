#include "core/model/wan_random_weights.h"

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/weights/random_weight.h"

namespace svgear {

WanWeights wan_random_weights(const WanConfig& config, uint64_t seed) {
  at::Generator generator = at::detail::createCPUGenerator(seed);
  WanWeights w = WanWeights::meta(config);
  // Filled in checkpoint order, so a seed always gives the same tensors.
  w.for_each_tensor_mutable([&](const std::string& name, at::Tensor& tensor, WeightPrecision) {
    const std::vector<int64_t> shape = tensor.sizes().vec();
    if (name.ends_with("modulation")) {
      // Upstream's init: randn / sqrt(dim).
      tensor = at::normal(0.0, 1.0 / std::sqrt(double(config.dim)), shape, generator, at::TensorOptions().dtype(at::kFloat));
    } else {
      tensor = random_weight(name, shape, generator);
    }
  });
  return w;
}

}  // namespace svgear
