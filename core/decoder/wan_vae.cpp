#include "core/decoder/wan_vae.h"

#include <utility>

#include <ATen/ATen.h>

namespace svgear {

WanVae::WanVae(WanVaeWeights weights) : weights_(std::move(weights)) {}

void WanVae::to(at::Device device, at::ScalarType dtype) { weights_.to(device, dtype); }

at::Tensor WanVae::decode(const at::Tensor& latent, const CancelToken* cancel) const {
  const WanVaeConfig& c = weights_.config;
  TORCH_CHECK(latent.dim() == 4 && latent.size(0) == c.z_dim && latent.size(1) >= 1,
              "Wan VAE latent must be [", c.z_dim, ", T >= 1, h, w], got ", latent.sizes());
  const at::TensorOptions f32 = at::TensorOptions().device(device()).dtype(at::kFloat);
  const at::Tensor latent_mean = at::tensor(c.latents_mean, f32).view({1, c.z_dim, 1, 1, 1});
  const at::Tensor latent_std = at::tensor(c.latents_std, f32).view({1, c.z_dim, 1, 1, 1});
  at::Tensor z = latent.to(f32).unsqueeze(0);                          // [1, z, T, h, w]
  // z / (1 / std) + mean, in upstream's order of operations (WanVAE.scale holds 1 / std)
  z = z / (1.0 / latent_std) + latent_mean;
  at::Tensor x = wan_vae_causal_conv3d(z.to(dtype()), weights_.conv2_weight, weights_.conv2_bias);

  // Each chunk's frames go straight into the video, so the decoded frames are held once, not as a
  // list of chunks and their concatenation (at full size that was the decode's peak).
  const int64_t frames = 1 + c.temporal_factor() * (x.size(2) - 1);
  at::Tensor video;  // [3, F, H, W] float32
  int64_t done = 0;
  WanVaeCache cache;
  for (int64_t i = 0; i < x.size(2); ++i) {
    if (cancel) cancel->throw_if_cancelled();
    cache.start_chunk();
    const WanVaeChunk chunk = i == 0 ? WanVaeChunk::First : WanVaeChunk::Later;
    const at::Tensor made = wan_vae_unpatchify(decode_chunk(x.narrow(2, i, 1), chunk, cache), c.patch_size).squeeze(0);
    if (!video.defined()) video = at::empty({made.size(0), frames, made.size(2), made.size(3)}, f32);
    TORCH_CHECK(done + made.size(1) <= frames, "Wan VAE: chunk ", i, " made ", made.size(1), " frames past ", frames);
    video.narrow(1, done, made.size(1)).copy_(made);
    done += made.size(1);
  }
  TORCH_CHECK(done == frames, "Wan VAE: ", done, " frames decoded, ", frames, " expected");
  return video;
}

at::Tensor WanVae::decode_chunk(const at::Tensor& x, WanVaeChunk chunk, WanVaeCache& cache) const {
  const WanVaeWeights& w = weights_;
  const WanVaeConfig& c = w.config;
  at::Tensor h = wan_vae_cached_conv3d(x, w.decoder_conv1_weight, w.decoder_conv1_bias,
                                       cache.next_slot());             // [B, dims[0], t, h, w]
  // middle
  h = wan_vae_residual_block(h, w.middle_0, cache);
  h = wan_vae_attention_block(h, w.middle_1);
  h = wan_vae_residual_block(h, w.middle_2, cache);
  // upsamples: each stage but the last ends with 2× in space (and 2× in time for upsample3d)
  for (size_t s = 0; s < w.upsamples.size(); ++s) {
    const WanVaeStageWeights& stage = w.upsamples[s];
    const at::Tensor stage_input = h;
    for (const WanVaeResidualWeights& block : stage.blocks) h = wan_vae_residual_block(h, block, cache);
    if (!stage.has_upsample()) continue;
    h = wan_vae_upsample(h, stage.upsample, cache);                   // [B, out, t', 2h, 2w]
    if (c.has_dup_up_shortcut()) {
      const int64_t factor_t = c.temporal_upsample[s] ? 2 : 1;
      h = h + wan_vae_dup_up(stage_input, h.size(1), factor_t, 2, chunk);
    }
  }
  // head
  h = at::silu(wan_vae_rms_norm(h, w.head_0_gamma));
  return wan_vae_cached_conv3d(h, w.head_2_weight, w.head_2_bias,
                               cache.next_slot());                    // [B, 3·patch², t', H, W]
}

}  // namespace svgear
