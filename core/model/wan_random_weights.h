#pragma once
// Random Wan weights for synthetic test models and benchmarks: deterministic for a seed, scaled so
// activations stay O(1) through any number of layers.

#include <cstdint>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "core/model/wan_config.h"
#include "core/model/wan_weights.h"

namespace svgear {

// float32 CPU tensors of the layout WanWeights::meta(config) describes.
WanWeights wan_random_weights(const WanConfig& config, uint64_t seed);

// The same kind of draw made on `device` (with that device's generator, so the values differ from
// the CPU draw's), each tensor already in the dtype WanWeights::to(device, compute) gives it: a
// 14B-parameter model never passes through host memory, whose float32 copy would take 56 GB.
WanWeights wan_random_weights(const WanConfig& config, uint64_t seed, c10::Device device, c10::ScalarType compute);

}  // namespace svgear
