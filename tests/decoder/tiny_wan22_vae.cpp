#include "tests/decoder/tiny_wan22_vae.h"

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/weights/safetensors_writer.h"
#include "tests/support/test_paths.h"

namespace svgear::test {
namespace {

constexpr uint64_t kWeightSeed = 2022;
// Residual and resample convolutions are scaled down so the ~20 residual additions and three
// shortcut additions keep the video O(1) (measured range about ±3 on a random latent).
constexpr double kConvGain = 0.5;

}  // namespace

WanVaeConfig tiny_wan22_vae_config() {
  WanVaeConfig c = WanVaeConfig::wan22();
  c.base_dim = 4;
  return c;
}

std::vector<std::pair<std::string, at::Tensor>> tiny_wan22_vae_tensors() {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(kWeightSeed);
  const at::TensorOptions f32 = at::TensorOptions().dtype(at::kFloat);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  WanVaeWeights layout = WanVaeWeights::meta(tiny_wan22_vae_config());
  layout.for_each_tensor([&](const std::string& name, at::Tensor& meta) {
    const std::vector<int64_t> shape = meta.sizes().vec();
    at::Tensor value = at::randn(shape, generator, f32);
    if (name.ends_with(".gamma")) {
      value = 1.0 + 0.1 * value;
    } else if (name.ends_with(".bias")) {
      value = 0.05 * value;
    } else {
      const double fan_in = double(meta.numel() / shape[0]);
      value = value * (kConvGain / std::sqrt(fan_in));
    }
    tensors.emplace_back(name, value);
  });
  tensors.emplace_back("encoder.conv1.weight", at::randn({4, 12, 3, 3, 3}, generator, f32));
  return tensors;
}

std::filesystem::path write_tiny_wan22_vae(const std::filesystem::path& dir, at::ScalarType dtype) {
  std::vector<std::pair<std::string, at::Tensor>> tensors = tiny_wan22_vae_tensors();
  for (auto& [name, tensor] : tensors) tensor = tensor.to(dtype);
  const std::filesystem::path path = dir / "wan2.2_vae.safetensors";
  std::filesystem::create_directories(dir);
  write_safetensors(path, tensors);
  return path;
}

WanVae tiny_wan22_vae() {
  return WanVae(WanVaeWeights::load(write_tiny_wan22_vae(scratch_dir("tiny_wan22_vae"), at::kFloat)));
}

}  // namespace svgear::test
