#include "core/decoder/wan_vae_layers.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>

namespace svgear {
namespace {

// What a one-frame chunk gets in front of it in the cache when the slot has no past yet.
enum class NoPast { Unset, Nothing, Zeros };

// The last kWanVaeCacheFrames frames of a chunk, with the previous chunk's last frame in front when
// the chunk is a single frame (upstream "cache last frame of last two chunk"). A copy, so the
// cache does not keep the whole chunk alive.
at::Tensor frames_to_cache(const at::Tensor& x, const at::Tensor& past, NoPast no_past) {
  const int64_t frames = x.size(2);
  const int64_t kept = std::min<int64_t>(frames, kWanVaeCacheFrames);
  at::Tensor next = x.narrow(2, frames - kept, kept);
  if (kept < kWanVaeCacheFrames) {
    if (past.defined()) {
      next = at::cat({past.narrow(2, past.size(2) - 1, 1), next}, 2);
    } else if (no_past == NoPast::Zeros) {
      next = at::cat({at::zeros_like(next), next}, 2);
    }
  }
  return next.clone();
}

}  // namespace

at::Tensor wan_vae_causal_conv3d(const at::Tensor& x, const at::Tensor& weight,
                                 const at::Tensor& bias, const at::Tensor& past) {
  int64_t past_pad = weight.size(2) - 1;
  at::Tensor input = x;
  if (past.defined() && past_pad > 0) {
    input = at::cat({past, x}, 2);
    past_pad -= past.size(2);
  }
  const int64_t pad_h = weight.size(3) / 2;
  const int64_t pad_w = weight.size(4) / 2;
  if (past_pad > 0 || pad_h > 0 || pad_w > 0) {
    input = at::constant_pad_nd(input, {pad_w, pad_w, pad_h, pad_h, past_pad, 0});
  }
  return at::conv3d(input, weight, bias);
}

at::Tensor wan_vae_cached_conv3d(const at::Tensor& x, const at::Tensor& weight,
                                 const at::Tensor& bias, WanVaeCacheSlot& slot) {
  at::Tensor next = frames_to_cache(x, slot.frames, NoPast::Nothing);
  at::Tensor y = wan_vae_causal_conv3d(x, weight, bias, slot.frames);
  slot.frames = std::move(next);
  return y;
}

at::Tensor wan_vae_rms_norm(const at::Tensor& x, const at::Tensor& gamma) {
  constexpr double kNormalizeEps = 1e-12;  // F.normalize's default
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor normed = xf / at::linalg_vector_norm(xf, 2, {1}, /*keepdim=*/true).clamp_min(kNormalizeEps);
  return normed.to(x.scalar_type()) * std::sqrt(double(x.size(1))) * gamma;
}

at::Tensor wan_vae_residual_block(const at::Tensor& x, const WanVaeResidualWeights& w,
                                  WanVaeCache& cache) {
  at::Tensor h = w.shortcut_weight.defined()
                     ? wan_vae_causal_conv3d(x, w.shortcut_weight, w.shortcut_bias)  // [B, out, T, H, W]
                     : x;
  at::Tensor y = at::silu(wan_vae_rms_norm(x, w.residual_0_gamma));
  y = wan_vae_cached_conv3d(y, w.residual_2_weight, w.residual_2_bias, cache.next_slot());
  y = at::silu(wan_vae_rms_norm(y, w.residual_3_gamma));
  y = wan_vae_cached_conv3d(y, w.residual_6_weight, w.residual_6_bias, cache.next_slot());
  return y + h;                                                     // [B, out, T, H, W]
}

at::Tensor wan_vae_attention_block(const at::Tensor& x, const WanVaeAttentionWeights& w) {
  const int64_t b = x.size(0), c = x.size(1), t = x.size(2), h = x.size(3), wd = x.size(4);
  at::Tensor f = x.permute({0, 2, 1, 3, 4}).reshape({b * t, c, h, wd});   // [B·T, C, H, W]
  f = wan_vae_rms_norm(f, w.norm_gamma);
  at::Tensor qkv = at::conv2d(f, w.to_qkv_weight, w.to_qkv_bias);      // [B·T, 3C, H, W]
  qkv = qkv.reshape({b * t, 1, 3 * c, h * wd}).permute({0, 1, 3, 2}).contiguous();  // [B·T, 1, HW, 3C]
  std::vector<at::Tensor> q_k_v = qkv.chunk(3, -1);                     // 3 × [B·T, 1, HW, C]
  at::Tensor o = at::scaled_dot_product_attention(q_k_v[0], q_k_v[1], q_k_v[2]);
  o = o.squeeze(1).permute({0, 2, 1}).reshape({b * t, c, h, wd});       // [B·T, C, H, W]
  o = at::conv2d(o, w.proj_weight, w.proj_bias);
  return o.reshape({b, t, c, h, wd}).permute({0, 2, 1, 3, 4}) + x;       // [B, C, T, H, W]
}

at::Tensor wan_vae_upsample(const at::Tensor& x, const WanVaeUpsampleWeights& w,
                            WanVaeCache& cache) {
  at::Tensor y = x;
  if (w.time_conv_weight.defined()) {
    WanVaeCacheSlot& slot = cache.next_slot();
    if (!slot.visited) {
      slot.visited = true;  // the first chunk stays one frame
    } else {
      // Until this slot has a past, the time conv pads with zeros and caches zeros in front.
      at::Tensor next = frames_to_cache(x, slot.frames, NoPast::Zeros);
      at::Tensor doubled = wan_vae_causal_conv3d(x, w.time_conv_weight, w.time_conv_bias,
                                                 slot.frames);          // [B, 2C, T, H, W]
      slot.frames = std::move(next);
      const int64_t b = x.size(0), c = x.size(1), t = x.size(2);
      // channel halves (2, C) become frame pairs: frame 2i from the first half, 2i+1 the second
      y = doubled.view({b, 2, c, t, x.size(3), x.size(4)})
              .permute({0, 2, 3, 1, 4, 5})
              .reshape({b, c, 2 * t, x.size(3), x.size(4)});            // [B, C, 2T, H, W]
    }
  }
  y = at::upsample_nearest3d(y, {y.size(2), 2 * y.size(3), 2 * y.size(4)});  // [B, C, T, 2H, 2W]
  // the per-frame Conv2d, as a conv3d with a one-frame kernel
  return at::conv3d(y, w.resample_1_weight.unsqueeze(2), w.resample_1_bias, {1, 1, 1},
                    {0, 1, 1});  // [B, C/2 (2.1) or C (2.2), T, 2H, 2W]
}

at::Tensor wan_vae_dup_up(const at::Tensor& x, int64_t out_channels, int64_t factor_t,
                          int64_t factor_s, WanVaeChunk chunk) {
  const int64_t b = x.size(0), c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4);
  const int64_t repeats = out_channels * factor_t * factor_s * factor_s / c;
  at::Tensor y = x.repeat_interleave(repeats, 1)                        // [B, out·ft·fs², T, H, W]
                     .view({b, out_channels, factor_t, factor_s, factor_s, t, h, w})
                     .permute({0, 1, 5, 2, 6, 3, 7, 4})                 // [B, out, T, ft, H, fs, W, fs]
                     .reshape({b, out_channels, t * factor_t, h * factor_s, w * factor_s});
  if (chunk == WanVaeChunk::First) y = y.narrow(2, factor_t - 1, y.size(2) - (factor_t - 1));
  return y;
}

at::Tensor wan_vae_unpatchify(const at::Tensor& x, int64_t patch) {
  if (patch == 1) return x;
  const int64_t b = x.size(0), t = x.size(2), h = x.size(3), w = x.size(4);
  const int64_t c = x.size(1) / (patch * patch);
  return x.view({b, c, patch, patch, t, h, w})                          // [B, C, r, q, T, H, W]
      .permute({0, 1, 4, 5, 3, 6, 2})                                   // [B, C, T, H, q, W, r]
      .reshape({b, c, t, h * patch, w * patch});
}

}  // namespace svgear
