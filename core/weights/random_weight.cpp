#include "core/weights/random_weight.h"

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace svgear {

at::Tensor random_weight(const std::string& name, at::IntArrayRef shape, at::Generator& generator,
                         const at::TensorOptions& options) {
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(generator.device());
  auto normal = [&](double std) { return at::normal(0.0, std, shape, generator, f32); };
  const bool gain = name.ends_with("gamma") || (name.find("norm") != std::string::npos && name.ends_with(".weight"));
  at::Tensor value;
  if (gain) {
    value = 1.0 + normal(0.05);
  } else if (shape.size() == 1) {
    value = normal(0.02);
  } else {
    int64_t fan_in = 1;
    for (size_t i = 1; i < shape.size(); ++i) fan_in *= shape[i];
    value = normal(1.0 / std::sqrt(double(fan_in)));
  }
  const at::ScalarType dtype = options.dtype_opt() ? options.dtype_opt()->toScalarType() : at::kFloat;
  return value.to(options.device_opt().value_or(value.device()), dtype);
}

at::Generator seeded_generator(c10::Device device, uint64_t seed) {
  if (device.is_cpu()) return at::detail::createCPUGenerator(seed);
  at::Generator generator = at::globalContext().defaultGenerator(device).clone();
  generator.set_current_seed(seed);
  return generator;
}

}  // namespace svgear
