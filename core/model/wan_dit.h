#pragma once
// WanDiT: the Wan 2.1 text-to-video diffusion transformer (upstream WanModel, t2v), which is also
// the text-to-video path of Wan2.2-TI2V-5B (48 latent channels; its per-token timesteps are all
// the same step t there).
//
//   WanDiT dit(config, WanWeights::load(config, files));
//   dit.to(at::kCUDA, at::kBFloat16);
//   DenseBackend dense;
//   at::Tensor velocity = dit.forward(latent, t, text, DiTForward{.attention = &dense});
//
// Patchify (Conv3d) → N tokens → blocks (self-attention through the AttentionBackend, dense
// cross-attention, FFN) → modulated head → unpatchify. The residual stream, modulation and head
// run in float32; matmuls in the weights' dtype.

#include <memory>

#include <ATen/core/Tensor.h>

#include "core/model/dit_forward.h"
#include "core/model/rope.h"
#include "core/model/wan_config.h"
#include "core/model/wan_weights.h"

namespace svgear {

class WanDiT {
 public:
  WanDiT(WanConfig config, WanWeights weights);

  const WanConfig& config() const { return config_; }
  const WanWeights& weights() const { return weights_; }

  // x: [B, in_dim, F, H, W] with F, H, W multiples of the patch; t: [B] timesteps (0..1000,
  // float); context: [B, L, text_dim] with L <= text_len (upstream zero-pads it to text_len; here the
  // padding is one embedded row that cross-attention counts, text_context.h).
  // Returns [B, out_dim, F, H, W] float32. Throws Cancelled when call.cancel is set (polled before
  // every block).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& t, const at::Tensor& context,
                     const DiTForward& call) const;

  // Matmul weights become `dtype`; norms, modulation, time embedding and head stay float32.
  void to(at::Device device, at::ScalarType dtype);

 private:
  WanConfig config_;
  WanWeights weights_;
  std::unique_ptr<RopeTableCache> rope_ = std::make_unique<RopeTableCache>();
};

}  // namespace svgear
