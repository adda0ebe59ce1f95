#pragma once
// Diffusers ↔ original names of a Wan VAE's decoder half. The decoder knows only the original
// names (`decoder.upsamples.4.shortcut.weight`); the Diffusers layout (AutoencoderKLWan,
// vae/diffusion_pytorch_model.safetensors: `decoder.up_blocks.1.resnets.0.conv_shortcut.weight`)
// is renamed once, at load. The maps follow diffusers' scripts/convert_wan_to_diffusers.py:
//   both versions: post_quant_conv → conv2, decoder.conv_in → decoder.conv1,
//   mid_block.resnets.{0,1} → middle.{0,2}, mid_block.attentions.0 → middle.1, norm_out → head.0,
//   conv_out → head.2; in residual blocks norm1/conv1/norm2/conv2/conv_shortcut →
//   residual.0/residual.2/residual.3/residual.6/shortcut;
//   Wan 2.1 (convert_vae): up_blocks.{s}.resnets.{j} → upsamples.{s·(R+2)+j},
//   up_blocks.{s}.upsamplers.0 → upsamples.{s·(R+2)+R+1};
//   Wan 2.2 (convert_vae_22): up_blocks.{s}.resnets.{j} → upsamples.{s}.upsamples.{j},
//   up_blocks.{s}.upsampler → upsamples.{s}.upsamples.{R+1}.
// R is num_res_blocks (2 for both released VAEs).

#include <string>
#include <string_view>

#include "core/decoder/wan_vae_config.h"

namespace svgear {

// The original name of a Diffusers VAE tensor; "" for tensors the decoder does not use
// (encoder.*, quant_conv.*) and for names it does not know.
std::string wan_vae_original_name(std::string_view diffusers_name, WanVaeVersion version,
                                  int num_res_blocks);

// The inverse, for writing Diffusers-layout files (tests); "" for encoder-side names.
std::string wan_vae_diffusers_name(std::string_view original_name, WanVaeVersion version,
                                   int num_res_blocks);

}  // namespace svgear
