#pragma once
// Random models: a complete model folder (model.json + model.safetensors) with random weights, in
// the same format as the built-in model. Tests, benchmarks and first-time users use them to
// exercise the whole pipeline without trained weights; the output is structured noise.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/pipeline/model_manifest.h"

namespace svgear {

// How a random model's model.json description begins: what `svgear random-model --force` checks
// before it replaces a folder's model.
constexpr std::string_view kRandomModelDescription = "random weights";

struct RandomModelSpec {
  std::string name;
  WanConfig dit;
  std::vector<std::string> vocabulary;
  int max_tokens = 0;
  SamplingDefaults defaults;
  uint64_t seed = 0;
};

// "tiny" (2 layers, dim 64; seconds per clip on a CPU) or "small" (4 layers, dim 128, 64×64×16).
// Throws UserError listing the presets for an unknown name.
RandomModelSpec random_model_preset(std::string_view preset);

// Writes <folder>/model.json and <folder>/model.safetensors; returns the manifest written.
ModelManifest write_random_model(const std::filesystem::path& folder, const RandomModelSpec& spec);

}  // namespace svgear
