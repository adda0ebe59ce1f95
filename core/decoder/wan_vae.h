#pragma once
// WanVae: the decode path of upstream WanVAE_ (Wan 2.1, wan/modules/vae.py) and of the Wan 2.2 VAE
// (wan/modules/vae2_2.py), without tiling or 8-bit conversion; the version comes from the weights.
//
//   WanVae vae(WanVaeWeights::load("wan_2.1_vae.safetensors"));
//   vae.to(at::kCUDA, at::kBFloat16);
//   at::Tensor video = vae.decode(latent);   // [16, T, h, w] → [3, 1 + 4(T-1), 8h, 8w] float32
//                                            // (2.2: [48, T, h, w] → [3, 1 + 4(T-1), 16h, 16w])
//
// Un-normalise (z · std + mean), conv2 (1³), then the decoder one latent frame at a time with
// causal caches: the first latent frame makes one video frame, every later one four. The 2.2
// decoder adds each stage's input back through a DupUp3D shortcut and unpatchifies its 12-channel
// head into RGB at twice the resolution.

#include <ATen/core/Tensor.h>

#include "core/cancel_token.h"
#include "core/decoder/wan_vae_cache.h"
#include "core/decoder/wan_vae_layers.h"
#include "core/decoder/wan_vae_weights.h"

namespace svgear {

class WanVae {
 public:
  explicit WanVae(WanVaeWeights weights);

  const WanVaeConfig& config() const { return weights_.config; }
  at::Device device() const { return weights_.conv2_weight.device(); }
  at::ScalarType dtype() const { return weights_.conv2_weight.scalar_type(); }

  // Weights to `device` as `dtype` (the compute dtype; un-normalisation stays float32).
  void to(at::Device device, at::ScalarType dtype);

  // latent: [z_dim, T, h, w], normalised as the DiT produces it, any device and floating dtype.
  // Returns [3, 1 + temporal_factor·(T - 1), spatial_factor·h, spatial_factor·w] float32 on the
  // weights' device, unclamped (nominally [-1, 1]). `cancel`, when given, is polled before each
  // latent frame (a set token throws Cancelled: a 480p Wan clip decodes for seconds).
  at::Tensor decode(const at::Tensor& latent, const CancelToken* cancel = nullptr) const;

 private:
  // One chunk through decoder.* ([B, z_dim, 1, h, w] after conv2 → [B, 3·patch², 1 or 4, 8h, 8w],
  // before the unpatchify).
  at::Tensor decode_chunk(const at::Tensor& x, WanVaeChunk chunk, WanVaeCache& cache) const;

  WanVaeWeights weights_;
};

}  // namespace svgear
