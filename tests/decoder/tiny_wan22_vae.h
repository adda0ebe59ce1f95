#pragma once
// A tiny synthetic Wan 2.2 VAE, written by the tests (there are no upstream 2.2 test vectors): the
// released decoder's layout (48 latent channels, patch 2, dim_mult {1, 2, 4, 4}, three residual
// blocks per stage, temporal upsampling in the first two stages) at base dim 4 (stage dims
// 16, 16, 16, 8, 4), with seeded random weights scaled so activations stay O(1).

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/decoder/wan_vae.h"

namespace svgear::test {

WanVaeConfig tiny_wan22_vae_config();

// The decoder's tensors under their original names (float32 CPU), in checkpoint order, plus one
// encoder tensor as real files have (the loader must ignore it).
std::vector<std::pair<std::string, at::Tensor>> tiny_wan22_vae_tensors();

// tiny_wan22_vae_tensors() as `dtype` in <dir>/wan2.2_vae.safetensors; returns the path.
std::filesystem::path write_tiny_wan22_vae(const std::filesystem::path& dir,
                                           at::ScalarType dtype);

WanVae tiny_wan22_vae();  // float32 on the CPU, loaded from a file written to a scratch folder

}  // namespace svgear::test
