#include "core/training/shapes_model_spec.h"

#include "core/io/bounded_json.h"
#include "core/shapes/prompt_grammar.h"
#include "core/user_error.h"

namespace svgear {

ShapesModelSpec shapes_model_preset(std::string_view name) {
  ShapesModelSpec spec;
  spec.name = std::string(name);
  spec.vocabulary = prompt_vocabulary();
  spec.max_tokens = 40;  // three objects with motions and a background stay under this
  WanConfig& c = spec.dit;
  c.in_dim = 3;
  c.out_dim = 3;
  c.patch_size = {1, 4, 4};
  c.text_len = spec.max_tokens;
  spec.defaults.sampler = SamplerKind::UniPC;
  spec.defaults.guidance = 4.0;
  spec.defaults.shift = 3.0;
  if (name == "shapes-s" || name == "shapes-l") {
    c.dim = 256;
    c.ffn_dim = 768;  // with 6 layers, ~6.1M parameters: its checkpoint fits a device run's 64 MiB
    c.freq_dim = 128;
    c.text_dim = 128;
    c.num_heads = 4;
    c.num_layers = 6;
    spec.text_layers = 2;
    spec.text_heads = 4;
    spec.clip = {16, 64, 64};
    spec.max_objects = 3;
    // 14 UniPC steps: one clip in under a minute on a 2-core CPU with margin (54.7 s; 16 steps took
    // 59–62 s for the same adherence on the step-12,404 model, docs/training.md).
    spec.defaults.steps = 14;
    // shapes-l: the same network on 128×128 × 17 frames (17 × 32 × 32 = 17408 tokens), for GPU-scale
    // sparse attention on learned weights; trained on from shapes-s weights (--init-from). A GPU
    // model: 16 steps, as it was evaluated.
    if (name == "shapes-l") {
      spec.clip = {17, 128, 128};
      spec.defaults.steps = 16;
    }
  } else if (name == "shapes-tiny") {
    c.dim = 64;
    c.ffn_dim = 128;
    c.freq_dim = 32;
    c.text_dim = 32;
    c.num_heads = 2;
    c.num_layers = 2;
    spec.text_layers = 1;
    spec.text_heads = 2;
    spec.clip = {8, 32, 32};
    spec.max_objects = 1;
    spec.defaults.steps = 8;
  } else {
    throw UserError("unknown shapes model preset '" + std::string(name) +
                    "' (choose shapes-s, shapes-l or shapes-tiny)");
  }
  spec.defaults.frames = spec.clip.frames;
  spec.defaults.height = spec.clip.height;
  spec.defaults.width = spec.clip.width;
  return spec;
}

nlohmann::json ShapesModelSpec::to_json() const {
  return {{"name", name},
          {"dit", dit.to_json()},
          {"vocabulary", vocabulary},
          {"max_tokens", max_tokens},
          {"text_layers", text_layers},
          {"text_heads", text_heads},
          {"clip", {clip.frames, clip.height, clip.width}},
          {"max_objects", max_objects}};
}

ShapesModelSpec ShapesModelSpec::from_json(const nlohmann::json& json) {
  ShapesModelSpec spec = shapes_model_preset(json.at("name").get<std::string>());
  spec.dit = WanConfig::from_json(json.at("dit"));
  spec.vocabulary = json.at("vocabulary").get<std::vector<std::string>>();
  spec.max_tokens = json_int(json.at("max_tokens"), "max_tokens");
  // Absent before the text transformer: none.
  spec.text_layers = json.contains("text_layers") ? json_int(json.at("text_layers"), "text_layers") : 0;
  spec.text_heads = json.contains("text_heads") ? json_int(json.at("text_heads"), "text_heads") : 0;
  const nlohmann::json& clip = json.at("clip");
  spec.clip = {json_int(clip.at(0), "clip"), json_int(clip.at(1), "clip"), json_int(clip.at(2), "clip")};
  spec.max_objects = json_int(json.at("max_objects"), "max_objects");
  return spec;
}

}  // namespace svgear
