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
  // What a hand-edited state or export could hold that the trainer cannot build (a clip of -8
  // frames, sides the patch does not divide), refused as malformed fields so the readers name the file.
  const auto [pt, ph, pw] = spec.dit.patch_size;
  const auto divides = [](int size, int patch, int largest) {
    return size >= 1 && size <= largest && size % patch == 0;
  };
  require_json_field(divides(spec.clip.frames, pt, 1024) && divides(spec.clip.height, ph, 4096) &&
                         divides(spec.clip.width, pw, 4096),
                     "clip", "[frames, height, width] of positive multiples of the patch " +
                                 nlohmann::json(spec.dit.patch_size).dump(),
                     clip);
  require_json_field(spec.dit.in_dim == 3 && spec.dit.out_dim == 3, "dit", "a pixel-space model (in_dim = out_dim = 3)",
                     json.at("dit"));
  require_json_field(!spec.vocabulary.empty(), "vocabulary", "a non-empty list of words", json.at("vocabulary"));
  require_json_field(spec.max_tokens >= 1 && spec.max_tokens <= spec.dit.text_len, "max_tokens",
                     "1 to the model's text_len " + std::to_string(spec.dit.text_len), json.at("max_tokens"));
  require_json_field(spec.text_layers >= 0 && spec.text_layers <= 16, "text_layers", "0 to 16", spec.text_layers);
  require_json_field(spec.text_layers == 0 || (spec.text_heads >= 1 && spec.dit.text_dim % spec.text_heads == 0),
                     "text_heads", "a divisor of text_dim " + std::to_string(spec.dit.text_dim), spec.text_heads);
  require_json_field(spec.max_objects >= 1 && spec.max_objects <= kMaxSceneObjects, "max_objects",
                     "1 to " + std::to_string(kMaxSceneObjects), spec.max_objects);
  return spec;
}

}  // namespace svgear
