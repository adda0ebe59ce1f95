#pragma once
// WanConfig: the hyper-parameters of a Wan 2.1 DiT (upstream `WanModel.__init__`), with the
// defaults of Wan2.1-T2V-1.3B. from_json reads the layout of the official `config.json`.

#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/attention/token_grid.h"

namespace svgear {

// Wan 14B has 40 blocks; a header or config.json claiming thousands is damaged or hostile (its meta
// weights alone would take GBs).
inline constexpr int kMaxWanLayers = 256;

struct WanConfig {
  std::string model_type = "t2v";              // only text-to-video is implemented
  std::array<int, 3> patch_size = {1, 2, 2};   // (frames, height, width) of one token
  int text_len = 512;                          // context is zero-padded to this many tokens
  int in_dim = 16;                             // latent channels in
  int dim = 1536;
  int ffn_dim = 8960;
  int freq_dim = 256;                          // sinusoidal time embedding width
  int text_dim = 4096;                         // umT5-XXL width
  int out_dim = 16;                            // latent channels out
  int num_heads = 12;
  int num_layers = 30;
  bool qk_norm = true;                         // RMSNorm over the full dim on q and k
  bool cross_attn_norm = true;                 // affine LayerNorm (norm3) before cross-attention
  double eps = 1e-6;

  int head_dim() const { return dim / num_heads; }
  int64_t patch_volume() const { return int64_t(patch_size[0]) * patch_size[1] * patch_size[2]; }
  // The tokens of a latent of latent_frames × latent_height × latent_width.
  TokenGrid token_grid(int latent_frames, int latent_height, int latent_width) const {
    return {latent_frames / patch_size[0], latent_height / patch_size[1], latent_width / patch_size[2]};
  }
  // Each patch extent a model may have (Wan's are 1 × 2 × 2, the built-in models' 1 × 4 × 4): a
  // larger one is a damaged file, and the patch's volume could not be held.
  static constexpr int kLargestPatch = 64;

  // Fields the official config.json holds are required; patch_size, text_dim, qk_norm,
  // cross_attn_norm and window_size are optional (upstream leaves them out of the file).
  // Throws UserError naming the field on anything missing, mistyped or inconsistent.
  static WanConfig from_json(const nlohmann::json& json);
  nlohmann::json to_json() const;
};

}  // namespace svgear
