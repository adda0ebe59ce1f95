#pragma once
// WanFolder: the files of a Wan model folder (Wan 2.1 T2V, Wan2.2-T2V-A14B, Wan2.2-TI2V-5B) as
// users have them, found without a model.json.
//
// Two layouts are read (docs/wan.md):
//   original / ComfyUI   <folder>/wan2.1_t2v_1.3B_bf16.safetensors  (any one .safetensors holding
//                        the DiT; or Wan-AI's diffusion_pytorch_model*.safetensors + index json)
//                        <folder>/umt5_xxl_fp16.safetensors         (*t5*.safetensors)
//                        <folder>/wan_2.1_vae.safetensors           (any .safetensors holding the VAE;
//                                                                    wan2.2_vae.safetensors for TI2V-5B)
//                        <folder>/{,tokenizer/,google/umt5-xxl/}{spiece.model,tokenizer.json}
//                        optional <folder>/config.json (Wan-AI's WanModel config)
//   Diffusers            <folder>/transformer/diffusion_pytorch_model{.safetensors,-0000x-of-0000y
//                        .safetensors + .safetensors.index.json}, transformer/config.json,
//                        text_encoder/*.safetensors, tokenizer/, vae/*.safetensors
// Wan2.2-A14B's two experts (the high-noise DiT and the low-noise one) in each:
//   ComfyUI              wan2.2_t2v_high_noise_14B_fp16.safetensors + wan2.2_t2v_low_noise_….safetensors
//                        (any two DiTs named *high_noise* and *low_noise*)
//   Wan-AI               high_noise_model/ + low_noise_model/, each sharded as transformer/ above
//   Diffusers            transformer/ (high noise) + transformer_2/ (low noise), model_index.json's
//                        boundary_ratio
//
//   WanFolder files = WanFolder::find("/models/wan2.1-1.3b");
//   ModelManifest m = read_wan_manifest("/models/wan2.1-1.3b");   // variant, defaults, files
//
// Pickles (.pth, .ckpt, .bin, .pt) are refused with the safetensors file to use instead; a DiT at
// the top and a transformer/ folder at once, or two DiTs that are not a pair of experts, are
// refused as ambiguous; one expert without the other, or an expert's own folder, names the folder
// or file missing; a missing part says which files were looked for and where to get them.

#include <filesystem>
#include <optional>
#include <vector>

#include "core/pipeline/model_manifest.h"
#include "core/user_error.h"

namespace svgear {

enum class WanLayout { Unset, Original, Diffusers };
const char* wan_layout_name(WanLayout layout);

struct WanFolder {
  std::filesystem::path folder;
  WanLayout layout = WanLayout::Unset;
  std::vector<std::filesystem::path> dit_files;
  std::filesystem::path dit_config;  // config.json beside the DiT (may not exist)
  // Wan2.2-A14B: the low-noise expert (dit_files is then the high-noise one); empty otherwise.
  std::vector<std::filesystem::path> low_noise_dit_files;
  std::filesystem::path low_noise_dit_config;
  std::optional<double> boundary;  // Diffusers' model_index.json boundary_ratio, where it says
  std::vector<std::filesystem::path> text_encoder_files;
  std::filesystem::path tokenizer;  // what Umt5Tokenizer::load reads (a file, or the folder)
  std::filesystem::path vae_file;                // the first of vae_files
  std::vector<std::filesystem::path> vae_files;  // every VAE found, original names first

  // Throws UserError saying what is missing or wrong and what to download.
  static WanFolder find(const std::filesystem::path& folder);
};

// The manifest of a Wan folder: variant and config from the DiT's shapes (both experts' for a pair,
// which must agree; boundary 0.875 where model_index.json does not say), the variant's defaults,
// the VAE's size factors, the files above (relative to the folder). A VAE of the other version
// than the DiT's (a Wan 2.1 DiT with the Wan 2.2 VAE or the reverse) is refused with the file
// to use, and a DiT whose input or output width is not the VAE's latent width with both widths.
ModelManifest read_wan_manifest(const std::filesystem::path& folder);

// Whether `folder` holds a .safetensors file with a Wan DiT's patch_embedding.weight where WanFolder
// looks for one (at its top, in diffusion_models/, transformer/, transformer_2/, high_noise_model/
// or low_noise_model/), from the headers; a file cut short counts when its header text names the
// tensor. Never throws. A model scan names such a folder that is yet no model (a part missing or
// damaged) and passes over other weights (LoRAs, another model's Diffusers pipeline, a VAE alone, a
// damaged file that names no such tensor) without a word.
bool holds_wan_diffusion_model(const std::filesystem::path& folder);

}  // namespace svgear
