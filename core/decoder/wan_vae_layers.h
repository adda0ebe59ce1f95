#pragma once
// The layers of the Wan 2.1 VAE decoder (upstream wan/modules/vae.py), in plain ATen ops on
// [B, C, T, H, W] tensors in the weights' dtype. Cached layers take their slot of a WanVaeCache.

#include <ATen/core/Tensor.h>

#include "core/decoder/wan_vae_cache.h"
#include "core/decoder/wan_vae_weights.h"

namespace svgear {

// upstream CausalConv3d: zero padding of (kernel_t - 1) frames on the left only (fewer when
// `past` frames are given, which are prepended instead), symmetric kernel/2 in space.
at::Tensor wan_vae_causal_conv3d(const at::Tensor& x, const at::Tensor& weight,
                                 const at::Tensor& bias, const at::Tensor& past = {});

// A causal conv in the decoder's chunked loop: uses and then refreshes `slot`.
at::Tensor wan_vae_cached_conv3d(const at::Tensor& x, const at::Tensor& weight,
                                 const at::Tensor& bias, WanVaeCacheSlot& slot);

// upstream RMS_norm: x / ||x||₂ over channels (dim 1) · √C · gamma; the norm in float32.
at::Tensor wan_vae_rms_norm(const at::Tensor& x, const at::Tensor& gamma);

at::Tensor wan_vae_residual_block(const at::Tensor& x, const WanVaeResidualWeights& w,
                                  WanVaeCache& cache);

// Per frame: single-head attention over the H×W positions; not cached (frames are independent).
at::Tensor wan_vae_attention_block(const at::Tensor& x, const WanVaeAttentionWeights& w);

// upsample3d (time_conv defined): 2× frames except on the first chunk, then 2× in space;
// upsample2d: 2× in space only.
at::Tensor wan_vae_upsample(const at::Tensor& x, const WanVaeUpsampleWeights& w,
                            WanVaeCache& cache);

}  // namespace svgear
