#pragma once
// Random Wan VAE decoder weights for benchmarks (random_weight's init), drawn on `device`.

#include <cstdint>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "core/decoder/wan_vae_weights.h"

namespace svgear {

WanVaeWeights wan_vae_random_weights(const WanVaeConfig& config, uint64_t seed, at::Device device, at::ScalarType dtype);

}  // namespace svgear
