#include "core/sampling/seeded_noise.h"

#include <mutex>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

namespace svgear {

const char* noise_source_name(NoiseSource source) {
  return source == NoiseSource::Device ? "device" : "cpu";
}

std::optional<NoiseSource> noise_source_from_name(std::string_view name) {
  if (name == "cpu") return NoiseSource::Cpu;
  if (name == "device") return NoiseSource::Device;
  return std::nullopt;
}

at::Tensor seeded_noise(uint64_t seed, at::IntArrayRef shape, const at::TensorOptions& options, NoiseSource source) {
  at::ScalarType dtype = options.dtype().toScalarType();
  TORCH_CHECK(at::isFloatingType(dtype), "seeded_noise needs a floating dtype, got ", dtype);
  TORCH_CHECK(seed <= kMaxSeed, "seeded_noise: seed ", seed, " is past ", kMaxSeed, " and would draw the noise of seed ",
              seed & kMaxSeed);
  if (source == NoiseSource::Device && !options.device().is_cpu()) {
    // A copy of the device's default generator, reseeded: what torch.Generator(device).manual_seed
    // makes (the seed, offset 0), while the default generator itself is left alone.
    at::Generator global = at::globalContext().defaultGenerator(options.device());  // shares its state
    at::Generator generator;
    {
      const std::lock_guard<std::mutex> lock(global.mutex());
      generator = global.clone();
    }
    generator.set_current_seed(seed);  // a generator no other thread has seen
    return at::randn(shape, generator, at::TensorOptions().device(options.device()).dtype(at::kFloat)).to(dtype);
  }
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor noise = at::randn(shape, generator, at::TensorOptions().dtype(at::kFloat));
  return noise.to(options.device(), dtype);
}

}  // namespace svgear
