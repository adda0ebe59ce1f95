#include "core/decoder/wan_vae_random_weights.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/weights/random_weight.h"

namespace svgear {

WanVaeWeights wan_vae_random_weights(const WanVaeConfig& config, uint64_t seed, at::Device device, at::ScalarType dtype) {
  at::Generator generator = device.is_cpu() ? at::detail::createCPUGenerator(seed)
                                            : at::globalContext().defaultGenerator(device).clone();
  if (!device.is_cpu()) generator.set_current_seed(seed);
  const auto options = at::TensorOptions().device(device).dtype(dtype);
  WanVaeWeights w = WanVaeWeights::meta(config);
  w.for_each_tensor([&](const std::string& name, at::Tensor& tensor) {
    tensor = random_weight(name, tensor.sizes().vec(), generator, options);
  });
  return w;
}

}  // namespace svgear
