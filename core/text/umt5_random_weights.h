#pragma once
// Random umT5 encoder weights for benchmarks (`svgear bench step` times Wan's text encoder without
// its 11 GB of real weights): drawn directly on `device` (random_weight's init), so a umT5-XXL
// never passes through host memory.

#include <cstdint>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "core/text/umt5_weights.h"

namespace svgear {

Umt5Weights umt5_random_weights(const Umt5Config& config, uint64_t seed, at::Device device, at::ScalarType dtype);

}  // namespace svgear
