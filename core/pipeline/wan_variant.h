#pragma once
// WanVariant: which Wan DiT a checkpoint holds, read from its tensor names and shapes (never from
// file names), with the model's sampling defaults, size limits and the VAE it needs.
//
//   auto shapes = wan_dit_shapes(files);                    // original names → shapes
//   WanVariant v = detect_wan_variant(shapes, hints, "wan2.1_t2v_1.3B_bf16.safetensors");
//   v.name;   // "Wan2.1-T2V-1.3B"; v.config.dim == 1536, v.config.num_layers == 30
//
// Runs: Wan2.1 text-to-video at 1.3B (dim 1536, 30 layers) and 14B (dim 5120, 40 layers) with the
// Wan 2.1 VAE (16 latent channels); Wan2.2-T2V-A14B (two 14B experts, pair_wan_experts); Wan2.2-TI2V-5B (dim 3072, 30 layers) text-to-video with the
// Wan 2.2 VAE (48 latent channels); any other size of the same architecture (tests, fine-tunes).
// Refused with the reason: image-to-video models (img_emb, 36 input channels), conditioned ones
// (more input than output channels: control, inpainting), add-ons that need other inputs (audio,
// face, VACE), any other latent width.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/decoder/wan_vae_config.h"
#include "core/model/wan_config.h"
#include "core/pipeline/model_manifest.h"

namespace svgear {

class SafetensorsFile;

using TensorShapes = std::map<std::string, std::vector<int64_t>>;

// What the shapes cannot tell: a config.json beside the weights (the original WanModel config or
// Diffusers' transformer/config.json) may say it.
struct WanConfigHints {
  std::optional<int> num_heads;  // default: dim / 128 (the head width of every released Wan)
  std::string num_heads_from;    // "'num_attention_heads' in /m/transformer/config.json": what to fix
  std::filesystem::path config;  // the config.json read, where a missing count can be given
  std::optional<int> text_len;   // default: 512
};

struct WanVariant {
  std::string name;          // "Wan2.1-T2V-1.3B", "Wan2.1-T2V-14B", "Wan2.2-TI2V-5B" or
                             // "Wan2.1-architecture DiT ..." / "Wan2.2-TI2V-architecture DiT ..."
  WanConfig config;
  // Wan2.1: UniPC, 50 steps, shift 5, guidance 5, 81 frames at 16 fps, 480×832;
  // Wan2.2-TI2V-5B: UniPC, 50 steps, shift 5, guidance 5, 121 frames at 24 fps, 704×1280.
  SamplingDefaults defaults;
  int64_t max_pixels = 0;     // largest height × width the model was trained for; 0 = no limit
  WanVaeVersion vae_version = WanVaeVersion::Unset;  // the VAE of its latent space (16 or 48 channels)
};

// The DiT's tensors under their original names (index_wan_checkpoint's) with their stored shapes.
// Throws WeightsError for a tensor two shards hold.
TensorShapes wan_dit_shapes(const std::vector<std::shared_ptr<SafetensorsFile>>& files);

// Throws UserError naming `where` and the reason for checkpoints it cannot run.
WanVariant detect_wan_variant(const TensorShapes& shapes, const WanConfigHints& hints,
                              const std::string& where);

// Wan2.2-A14B's two experts, each already detected: both must be Wan 2.1-latent text-to-video DiTs
// of one config (else UserError naming both). The pair is named "Wan2.2-T2V-A14B" at the 14B's
// shapes ("… pair of experts" at others) and takes Wan2.2-T2V-A14B's defaults (upstream
// wan/configs/wan_t2v_A14B.py: UniPC, 40 steps, shift 12, guidance 4 for the high-noise expert
// and 3 for the low-noise one, 81 frames at 16 fps, 1280×720).
WanVariant pair_wan_experts(const WanVariant& high_noise, const WanVariant& low_noise, const std::string& high_where,
                            const std::string& low_where);

// The hints of a config.json (either format); empty hints when `path` does not exist.
WanConfigHints read_wan_config_hints(const std::filesystem::path& path);

}  // namespace svgear
