#pragma once
// GenerationRequest: everything that determines one generation. Unset optionals take the model's
// defaults (resolve()); a resolved request plus the model reproduces the video bit for bit on the
// same device.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/attention/attention_config.h"
#include "core/pipeline/model_manifest.h"
#include "core/sampling/sampler.h"

namespace svgear {

struct GenerationRequest {
  std::string prompt;
  std::optional<std::string> negative_prompt;
  uint64_t seed = 0;
  std::optional<int> steps;
  std::optional<double> guidance;  // classifier-free guidance scale; 1 disables the unconditional pass
  std::optional<double> shift;     // timestep shift of the flow schedule
  std::optional<int> frames;
  std::optional<int> height;
  std::optional<int> width;
  std::optional<double> fps;
  std::optional<SamplerKind> sampler;
  AttentionConfig attention;
  int preview_every = 1;  // emit a preview every N steps; 0 = none

  // Fills every unset field from the model's defaults and checks the values against the model
  // (sizes divisible by the patch, positive counts); throws UserError saying what to change.
  GenerationRequest resolve(const ModelManifest& model) const;
  nlohmann::json to_json() const;
};

}  // namespace svgear
