#pragma once
// random_weight: the initial value of one named weight of a synthetic model (tests, benchmarks):
// gains (norm weights, RMS-norm gammas) around 1, other vectors (biases) small, and matrices and
// convolution kernels with std 1/sqrt(fan_in), so every layer's output stays at unit scale through
// any depth. The Wan DiT, umT5 and the Wan VAE draw their random weights through it.

#include <string>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

namespace svgear {

// Drawn in float32 from `generator` (on its device), returned as `options` asks.
at::Tensor random_weight(const std::string& name, at::IntArrayRef shape, at::Generator& generator,
                         const at::TensorOptions& options = {});

}  // namespace svgear
