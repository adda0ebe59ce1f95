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
#include "core/model/wan_block.h"
#include "core/model/wan_config.h"
#include "core/model/wan_weights.h"

namespace svgear {

// What a forward computes before it reads the text: the patch and time embeddings and block 0's
// self-attention. Classifier-free guidance's two passes at one step share it (same latent, same
// t), so the second pass starts at block 0's cross-attention.
struct DiTPrefix {
  ResidualStream stream;       // after block 0's self-attention, its branch pending
  at::Tensor time_embedding;   // [B, dim] float32 (upstream e)
  at::Tensor time_modulation;  // [B, 6, dim] float32 (upstream e0)
  TokenGrid grid;
};

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

  // forward in two parts: forward_from(forward_prefix(x, t, call), context, call) is forward. A
  // prefix serves any context; its block-0 self-attention ran with the call given to
  // forward_prefix, so share one between calls only where that layer's attention does not depend
  // on the branch (a dense layer: the sparse schedules keep layer 0 dense, sparse_schedule.h).
  // Pass the prefix by copy (tensor handles) to all but the last call and move it into the last:
  // its stream is then freed after block 0.
  DiTPrefix forward_prefix(const at::Tensor& x, const at::Tensor& t, const DiTForward& call) const;
  at::Tensor forward_from(DiTPrefix prefix, const at::Tensor& context, const DiTForward& call) const;

  // Matmul weights become `dtype`; norms, modulation, time embedding and head stay float32.
  void to(at::Device device, at::ScalarType dtype);
  // WanWeights::swap_places on the two DiTs' weights (Wan2.2-A14B's experts).
  static void swap_places(WanDiT& to_host, WanDiT& to_device, at::Device device, at::ScalarType dtype) {
    WanWeights::swap_places(to_host.weights_, to_device.weights_, device, dtype);
  }
  // WanWeights::page_lock: for the expert that waits in host memory.
  bool page_lock(at::Device gpu) { return weights_.page_lock(gpu); }
  at::Device device() const { return weights_.patch_embedding_weight.device(); }  // its first weight's

 private:
  WanConfig config_;
  WanWeights weights_;
  std::unique_ptr<RopeTableCache> rope_ = std::make_unique<RopeTableCache>();
};

}  // namespace svgear
