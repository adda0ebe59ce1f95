#pragma once
// ShapesModelSpec: the architecture and clip size of a built-in shapes-world model (issue 5), the
// text side being a closed-vocabulary token table over the prompt grammar's words and a small
// transformer over them (prompt_transformer.h).
//
//   shapes-s     64×64 pixels × 16 frames, patch 1×4×4 → 4096 tokens, 6 layers of dim 256 (~6M
//                parameters: the bf16 weights ship under 16 MiB, a checkpoint fits 64 MiB); a text
//                transformer of 2 layers, 4 heads at text_dim 128 (0.4M)
//   shapes-l     shapes-s's network on 128×128 × 17 frames (17408 tokens), fine-tuned from shapes-s
//   shapes-tiny  32×32 × 8, 512 tokens, 2 layers of dim 64, 1 text layer: for tests and smoke runs
//                on a CPU

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/wan_config.h"
#include "core/pipeline/model_manifest.h"
#include "core/shapes/scene_renderer.h"

namespace svgear {

struct ShapesModelSpec {
  std::string name;
  WanConfig dit;                         // pixel space: in_dim = out_dim = 3
  std::vector<std::string> vocabulary;   // prompt_vocabulary()
  int max_tokens = 0;                    // words per prompt
  int text_layers = 0;                   // the text transformer's (0: the token table alone)
  int text_heads = 0;
  ClipSize clip;                         // the training clip size, and the sampling default
  int max_objects = 1;                   // per training scene
  SamplingDefaults defaults;

  nlohmann::json to_json() const;
  static ShapesModelSpec from_json(const nlohmann::json& json);
};

// Throws UserError listing the presets for an unknown name.
ShapesModelSpec shapes_model_preset(std::string_view name);

}  // namespace svgear
