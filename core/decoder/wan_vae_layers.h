#pragma once
// The layers of the Wan VAE decoders (upstream wan/modules/vae.py and vae2_2.py, which share all
// but the last two here), in plain ATen ops on [B, C, T, H, W] tensors in the weights' dtype.
// Cached layers take their slot of a WanVaeCache.

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

// Which latent frame a decoder chunk holds: the first makes one video frame, the others four.
enum class WanVaeChunk { Unset, First, Later };

// upstream DupUp3D (2.2's stage shortcut, no tensors): channel groups become pixels and frames.
// Each input channel is repeated out_channels·factor_t·factor_s² / C times; the result's channel
// o, sub-frame a, sub-row i, sub-column j reads repeated channel ((o·factor_t + a)·factor_s + i)·factor_s + j:
// [B, C, T, H, W] → [B, out_channels, T·factor_t, H·factor_s, W·factor_s], minus the first
// factor_t - 1 frames for the first chunk (which the resample keeps at one frame).
at::Tensor wan_vae_dup_up(const at::Tensor& x, int64_t out_channels, int64_t factor_t,
                          int64_t factor_s, WanVaeChunk chunk);

// upstream unpatchify ("b (c r q) f h w -> b c f (h q) (w r)"): channel c·p² + r·p + q becomes the
// pixel at row offset q and column offset r. [B, C·p², T, H, W] → [B, C, T, p·H, p·W].
at::Tensor wan_vae_unpatchify(const at::Tensor& x, int64_t patch);

}  // namespace svgear
