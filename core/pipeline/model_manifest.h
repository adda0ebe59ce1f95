#pragma once
// ModelManifest: the model.json of a model folder — what the DiT looks like, how text and latents
// are handled, which weight files to load and the model's sampling defaults. Wan folders have no
// model.json: read_wan_manifest (core/pipeline/wan_folder.h) fills the same struct from their files.
//
// {
//   "format": "svgear-model/1",
//   "name": "shapes-s", "description": "...",
//   "dit": { WanConfig fields, see core/model/wan_config.h },
//   "latent": { "type": "pixel" },
//   "text_encoder": { "type": "vocab", "vocabulary": ["a", "red", ...], "max_tokens": 16,
//                     "grammar": "shapes-world" (optional: prompts are canonicalised by the shapes
//                     world's grammar before tokenising; core/text/shapes_prompt_encoder.h) },
//   "weights": ["model.safetensors"],
//   "low_noise_expert": { "weights": ["low.safetensors"], "boundary": 0.875 }   (optional)
//   "defaults": { "sampler": "unipc", "steps": 20, "guidance": 5.0, "shift": 5.0,
//                 "frames": 16, "height": 64, "width": 64, "fps": 16, "negative_prompt": "",
//                 "low_noise_guidance": 3.0 (with low_noise_expert only) },
//   "training": { ... }   (optional, free-form: what `svgear train` records)
// }
// Any other field, in any section but "training", is refused by name (a typo would leave its value
// unread), but for notes whose key starts with '_' ("_comment"); so is an empty "name" (left out,
// the name is the folder's).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/wan_config.h"
#include "core/sampling/sampler.h"

namespace svgear {

inline constexpr const char* kShapesWorldGrammar = "shapes-world";

struct SamplingDefaults {
  SamplerKind sampler = SamplerKind::UniPC;
  int steps = 20;
  double guidance = 5.0;
  double shift = 5.0;
  int frames = 16;
  int height = 64;
  int width = 64;
  double fps = 16.0;
  std::string negative_prompt;
  // The guidance of the low-noise expert's steps; set exactly when the model has one (`guidance`
  // is then the high-noise expert's).
  std::optional<double> low_noise_guidance;
};

// Wan2.2-A14B's second DiT, of the same config as the first: the first ("weights") denoises the
// steps whose timestep is at or above boundary × 1000, this one the rest, as Wan's reference
// switches them (0.875 for Wan2.2-T2V-A14B).
struct LowNoiseExpert {
  std::vector<std::string> weight_files;  // relative to the model's folder
  double boundary = 0.0;                  // in (0, 1)
};

// The first step index whose timestep falls below boundary × 1000: the low-noise expert's first
// step (timesteps.size() when none does).
int first_low_noise_step(const std::vector<double>& timesteps, double boundary);

enum class LatentKind { Unset, Pixel, WanVae };
enum class TextEncoderKind { Unset, Vocab, Umt5 };

struct ModelManifest {
  std::filesystem::path folder;
  std::string name;
  std::string description;
  WanConfig dit;
  LatentKind latent = LatentKind::Unset;
  TextEncoderKind text_encoder = TextEncoderKind::Unset;
  std::vector<std::string> vocabulary;  // for TextEncoderKind::Vocab
  int max_tokens = 0;
  // The vocab encoder's transformer (prompt_transformer.h): 0 layers = the token table alone.
  int text_layers = 0;
  int text_heads = 0;
  std::string prompt_grammar;  // "" or kShapesWorldGrammar, for TextEncoderKind::Vocab
  std::vector<std::string> weight_files;  // the DiT's, relative to folder
  std::optional<LowNoiseExpert> low_noise_expert;  // Wan2.2-A14B: weight_files is the high-noise expert
  // Wan folders (relative to folder): umT5 weights, tokenizer file or folder, VAE.
  std::vector<std::string> text_encoder_files;
  std::string tokenizer;
  std::string vae_file;
  SamplingDefaults defaults;
  // Video sizes the latent allows: frames = temporal_factor·n + 1 and sides a multiple of
  // spatial_factor × patch (Wan 2.1: 4 and 8, Wan 2.2: 4 and 16); temporal_factor 0 for pixel
  // models, whose frames are a multiple of the patch.
  int temporal_factor = 0;
  int spatial_factor = 1;
  int64_t max_pixels = 0;  // largest height × width the model was trained for; 0 = no limit
  nlohmann::json raw;  // the file as read, for the run record

  // Reads <folder>/model.json; throws UserError naming the file and the field at fault.
  static ModelManifest read(const std::filesystem::path& folder);
  nlohmann::json to_json() const;
};

// A folder a search root gives that holds a Wan diffusion model but is no model: an incomplete Wan
// download (no VAE, no text encoder), Wan-AI's .pth VAE and text encoder beside the DiT, two DiTs.
// Listed with why (WanFolder's error), not left out without a word.
struct NotAModel {
  std::filesystem::path folder;
  std::string why;
};

// The model folders a search root gives: the root itself when it is one (SVGEAR_MODELS naming a
// Wan download directly), else the folders under it (one level deep) that hold a model.json or
// are complete Wan folders without one (WanFolder), sorted by name. `not_models`, when given, gets
// the folders among them that hold weights but are no model, sorted by name.
std::vector<std::filesystem::path> find_model_folders(const std::filesystem::path& root,
                                                      std::vector<NotAModel>* not_models = nullptr);

// The built-in models' folder: <prefix>/share/svgear/models beside an installed executable
// (<prefix>/bin/svgear, `cmake --install` or the .deb), else the source tree's resources/models
// (executables run from a build folder).
std::filesystem::path builtin_models_root();

// Where models are looked for: $SVGEAR_MODELS (colon-separated), then builtin_models_root().
std::vector<std::filesystem::path> model_search_roots();

// One line for each $SVGEAR_MODELS entry that cannot hold models (missing, or not a folder), for
// the listings to print instead of skipping it without a word.
std::vector<std::string> model_search_notes();

// Every root's model folders in search order, and the model used when none is chosen (the CLI
// without --model, the studio's first start): the first one under $SVGEAR_MODELS, else the built-in
// shapes-s (the CPU default; shapes-l is a GPU-scale model that sorts first), else the first
// built-in one; none when there is none. From one scan (a scan opens each candidate's weight
// headers: slow on a network mount).
struct ModelScan {
  std::vector<std::filesystem::path> folders;
  std::optional<std::filesystem::path> default_folder;
  bool default_builtin = false;       // default_folder came from builtin_models_root()
  std::vector<NotAModel> not_models;  // every root's, in search order
};
ModelScan scan_model_roots();

}  // namespace svgear
