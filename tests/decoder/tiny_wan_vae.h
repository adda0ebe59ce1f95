#pragma once
// The tiny Wan VAE of ../shared/testvectors/wan/wan_vae_tiny.*: weights and reference io.

#include <filesystem>

#include <ATen/core/Tensor.h>

#include "core/decoder/wan_vae.h"

namespace svgear::test {

std::filesystem::path tiny_wan_vae_path();  // wan_vae_tiny.weights.safetensors
WanVae tiny_wan_vae();                      // float32 on the CPU

// Upstream WanVAE_.decode (fp32 CPU), batch dimension removed.
struct TinyWanVaeIo {
  at::Tensor z;              // [16, 3, 4, 6] normalised latent
  at::Tensor video;          // [3, 9, 32, 48] before the clamp
  at::Tensor latents_mean;   // [16]
  at::Tensor latents_std;    // [16]
};
TinyWanVaeIo tiny_wan_vae_io();

// A seeded standard-normal latent [16, frames, h, w] (Wan 2.1), or [channels, frames, h, w].
at::Tensor random_latent(int64_t frames, int64_t height, int64_t width, uint64_t seed);
at::Tensor random_latent(int64_t channels, int64_t frames, int64_t height, int64_t width, uint64_t seed);

}  // namespace svgear::test
