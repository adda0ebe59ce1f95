#pragma once
// random_weight: the initial value of one named weight of a synthetic model (tests, benchmarks):
// gains (norm weights, RMS-norm gammas) around 1, other vectors (biases) small, and matrices and
// convolution kernels with std 1/sqrt(fan_in), so every layer's output stays at unit scale through
// any depth. The Wan DiT, umT5 and the Wan VAE draw their random weights through it.
//
//   Umt5Weights text = random_weights<Umt5Weights>(Umt5Config{}, seed, at::kCUDA, at::kBFloat16);

#include <cstdint>
#include <string>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

namespace svgear {

// Drawn in float32 from `generator` (on its device), returned as `options` asks.
at::Tensor random_weight(const std::string& name, at::IntArrayRef shape, at::Generator& generator,
                         const at::TensorOptions& options = {});

// A generator on `device` seeded with `seed` (a copy of the device's default one on CUDA).
at::Generator seeded_generator(c10::Device device, uint64_t seed);

// Every tensor of a weights struct with `Weights::meta(config)` and `for_each_tensor(name, tensor&)`
// (Umt5Weights, WanVaeWeights), drawn on `device` in checkpoint order, so a large model never
// passes through host memory.
template <typename Weights, typename Config>
Weights random_weights(const Config& config, uint64_t seed, c10::Device device, c10::ScalarType dtype) {
  at::Generator generator = seeded_generator(device, seed);
  const auto options = at::TensorOptions().device(device).dtype(dtype);
  Weights w = Weights::meta(config);
  w.for_each_tensor([&](const std::string& name, at::Tensor& tensor) {
    tensor = random_weight(name, tensor.sizes().vec(), generator, options);
  });
  return w;
}

}  // namespace svgear
