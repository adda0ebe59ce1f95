#pragma once
// WanVaeConfig: the hyper-parameters of the Wan 2.1 VAE decoder (upstream WanVAE_ as built by
// _video_vae), with the real model's defaults. from_shapes reads what a checkpoint fixes.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace svgear {

struct WanVaeConfig {
  int base_dim = 96;                                     // upstream `dim`
  int z_dim = 16;                                        // latent channels
  std::vector<int> dim_mult = {1, 2, 4, 4};              // per encoder stage; the decoder reverses it
  int num_res_blocks = 2;                                // the decoder runs num_res_blocks + 1 per stage
  std::vector<bool> temporal_upsample = {true, true, false};  // upstream temperal_downsample[::-1]
  // Per-channel statistics of the latent space (upstream WanVAE.mean / .std, hard-coded there):
  // the DiT works on (z - mean) / std.
  std::vector<float> latents_mean = {-0.7571f, -0.7089f, -0.9113f, 0.1075f, -0.1745f, 0.9653f,
                                     -0.1517f, 1.5508f,  0.4134f,  -0.0715f, 0.5517f, -0.3632f,
                                     -0.1922f, -0.9497f, 0.2503f,  -0.2921f};
  std::vector<float> latents_std = {2.8184f, 1.4541f, 2.3275f, 2.6558f, 1.2196f, 1.7708f,
                                    2.6052f, 2.0743f, 3.2687f, 2.1526f, 2.8652f, 1.5579f,
                                    1.6382f, 1.1253f, 2.8251f, 1.9160f};

  // Channels entering each decoder stage and leaving it: base_dim × [mult[-1], reversed mult].
  std::vector<int> stage_dims() const;
  int spatial_factor() const;   // 8 for Wan 2.1: one 2× upsample per stage but the last
  int temporal_factor() const;  // 4 for Wan 2.1: one 2× per temporal_upsample stage
  // Index of stage `stage`'s first block in the flat `decoder.upsamples.{k}` list.
  int first_upsample_index(int stage) const { return stage * (num_res_blocks + 2); }

  // The config of a checkpoint from its tensor shapes (original names, prefix stripped): z_dim
  // from conv2, base_dim from the head, num_res_blocks from the number of upsample entries and
  // temporal_upsample from which resamples have a time_conv tensor. Fields the shapes do not fix keep
  // their defaults, so a broken file is reported by the weight loader, tensor by tensor.
  static WanVaeConfig from_shapes(const std::map<std::string, std::vector<int64_t>>& shapes);
};

}  // namespace svgear
