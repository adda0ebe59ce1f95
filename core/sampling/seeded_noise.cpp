#include "core/sampling/seeded_noise.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace svgear {

at::Tensor seeded_noise(uint64_t seed, at::IntArrayRef shape, const at::TensorOptions& options) {
  at::ScalarType dtype = options.dtype().toScalarType();
  TORCH_CHECK(at::isFloatingType(dtype), "seeded_noise needs a floating dtype, got ", dtype);
  TORCH_CHECK(seed <= kMaxSeed, "seeded_noise: seed ", seed, " is past ", kMaxSeed, " and would draw the noise of seed ",
              seed & kMaxSeed);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor noise = at::randn(shape, generator, at::TensorOptions().dtype(at::kFloat));
  return noise.to(options.device(), dtype);
}

}  // namespace svgear
