#pragma once
// WanVaeConfig: the hyper-parameters of a Wan VAE decoder, with the released models' defaults.
// Two versions share the layers (causal 3-D convolutions with caches, RMS norms, residual and
// attention blocks, resamples) and differ in how the stages are wired:
//
//   Wan 2.1 (upstream wan/modules/vae.py, WanVAE_ as built by _video_vae): 16 latent channels,
//     4×8×8 compression; each stage's resample halves the channels; the tensors of all stages
//     are one flat list decoder.upsamples.{k}.
//   Wan 2.2 (upstream wan/modules/vae2_2.py, Wan2_2_VAE; Wan2.2-TI2V-5B): 48 latent channels,
//     4×16×16 compression; each stage is an Up_ResidualBlock (decoder.upsamples.{stage}.upsamples.{j})
//     whose resample keeps the channels and whose input is added back through a parameter-free
//     DupUp3D shortcut; the head makes 12 channels, unpatchified (patch 2) into 3 RGB channels at
//     twice the resolution.
//
// from_shapes reads what a checkpoint fixes.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace svgear {

enum class WanVaeVersion { Unset, Wan21, Wan22 };
const char* wan_vae_version_name(WanVaeVersion version);  // "Wan 2.1", "Wan 2.2"

// The latent channels of each released VAE, which also fix the DiTs that go with it.
constexpr int kWan21LatentChannels = 16;
constexpr int kWan22LatentChannels = 48;

// The checkpoint prefix of entry `entry` of decoder stage `stage` (entries 0..num_res_blocks are
// the residual blocks, num_res_blocks + 1 the resample): "decoder.upsamples.{stage·(R+2) + entry}."
// (2.1) or "decoder.upsamples.{stage}.upsamples.{entry}." (2.2).
std::string wan_vae_upsample_entry_prefix(WanVaeVersion version, int num_res_blocks, int stage, int entry);

// The number at the start of `text`, a part of a VAE tensor name ("3.upsamples.0.…"), when it
// lies in [0, 256), else -1; `rest` is what follows it. Bounded because the index of a hostile
// checkpoint must not size the layout.
int wan_vae_leading_index(std::string_view text, std::string_view& rest);

struct WanVaeConfig {
  WanVaeVersion version = WanVaeVersion::Wan21;
  int base_dim = 96;                                     // upstream `dim` (2.1) / `dec_dim` (2.2)
  int z_dim = kWan21LatentChannels;                      // latent channels
  std::vector<int> dim_mult = {1, 2, 4, 4};              // per encoder stage; the decoder reverses it
  int num_res_blocks = 2;                                // the decoder runs num_res_blocks + 1 per stage
  std::vector<bool> temporal_upsample = {true, true, false};  // upstream temperal_downsample[::-1]
  int patch_size = 1;  // 2.2: the head's 3·p² channels are unpatchified into p×p pixels
  // Per-channel statistics of the latent space (upstream WanVAE.mean / .std and Wan2_2_VAE's,
  // hard-coded there): the DiT works on (z - mean) / std.
  std::vector<float> latents_mean = {-0.7571f, -0.7089f, -0.9113f, 0.1075f, -0.1745f, 0.9653f,
                                     -0.1517f, 1.5508f,  0.4134f,  -0.0715f, 0.5517f, -0.3632f,
                                     -0.1922f, -0.9497f, 0.2503f,  -0.2921f};
  std::vector<float> latents_std = {2.8184f, 1.4541f, 2.3275f, 2.6558f, 1.2196f, 1.7708f,
                                    2.6052f, 2.0743f, 3.2687f, 2.1526f, 2.8652f, 1.5579f,
                                    1.6382f, 1.1253f, 2.8251f, 1.9160f};
  // The live preview's latent → RGB map on the normalised latent, [z_dim + 1][3] row-major with
  // the bias last, where a published one exists (Wan 2.2: ComfyUI's latent_rgb_factors); empty:
  // fitted to the VAE on first use (LatentRgbProjection::fit).
  std::vector<float> preview_rgb_factors;

  // The released Wan2.2_VAE decoder (dec_dim 256, z_dim 48, patch 2, its latent statistics).
  static WanVaeConfig wan22();

  // Channels entering each decoder stage and leaving it: base_dim × [mult[-1], reversed mult].
  std::vector<int> stage_dims() const;
  // Channels of stage `stage`'s input: 2.1's resamples halve what the previous stage made.
  int stage_input_dim(int stage) const;
  // Channels a stage's resample makes from `dim`: dim / 2 (2.1) or dim (2.2).
  int resample_out_dim(int dim) const;
  // 2.2: each stage with a resample adds its input back through DupUp3D.
  bool has_dup_up_shortcut() const { return version == WanVaeVersion::Wan22; }
  int head_out_channels() const { return 3 * patch_size * patch_size; }
  int spatial_factor() const;   // one 2× upsample per stage but the last, × patch: 8 (2.1), 16 (2.2)
  int temporal_factor() const;  // 4 for both: one 2× per temporal_upsample stage
  // wan_vae_upsample_entry_prefix of this config's version and num_res_blocks.
  std::string upsample_entry_prefix(int stage, int entry) const;

  // The config of a checkpoint from its tensor shapes (original names, prefix stripped): the
  // version from the stage naming (nested decoder.upsamples.{i}.upsamples.{j} is 2.2) or a 48-channel
  // conv2, z_dim from conv2, base_dim and patch_size from the head, num_res_blocks from the number
  // of upsample entries and temporal_upsample from which resamples have a time_conv tensor. Fields
  // the shapes do not fix keep the version's defaults, so a broken file is reported by the weight
  // loader, tensor by tensor.
  static WanVaeConfig from_shapes(const std::map<std::string, std::vector<int64_t>>& shapes);
};

}  // namespace svgear
