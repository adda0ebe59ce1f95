#pragma once
// Random Wan weights for synthetic test models and benchmarks: deterministic for a seed, scaled so
// activations stay O(1) through any number of layers.

#include <cstdint>

#include "core/model/wan_config.h"
#include "core/model/wan_weights.h"

namespace svgear {

// float32 CPU tensors of the layout WanWeights::meta(config) describes.
WanWeights wan_random_weights(const WanConfig& config, uint64_t seed);

}  // namespace svgear
