#include "tests/decoder/tiny_wan_vae.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/weights/safetensors_file.h"
#include "tests/support/test_paths.h"

namespace svgear::test {

std::filesystem::path tiny_wan_vae_path() {
  return testvector("wan/wan_vae_tiny.weights.safetensors");
}

WanVae tiny_wan_vae() { return WanVae(WanVaeWeights::load(tiny_wan_vae_path())); }

TinyWanVaeIo tiny_wan_vae_io() {
  auto file = SafetensorsFile::open(testvector("wan/wan_vae_tiny.io.safetensors"));
  return {file->load("z")[0], file->load("video")[0], file->load("latents_mean"),
          file->load("latents_std")};
}

at::Tensor random_latent(int64_t frames, int64_t height, int64_t width, uint64_t seed) {
  return random_latent(16, frames, height, width, seed);
}

at::Tensor random_latent(int64_t channels, int64_t frames, int64_t height, int64_t width, uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn({channels, frames, height, width}, generator, at::TensorOptions().dtype(at::kFloat));
}

}  // namespace svgear::test
