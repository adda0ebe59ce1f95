#pragma once
// LatentRgbProjection: the live preview's latent → RGB map, one affine map per pixel
// (rgb = latentᵀ·M + b). For the Wan 2.1 VAE it is fitted to the VAE itself: decode a seeded
// random latent once, average the video over each latent cell (8×8 pixels, 4 frames or the first
// one) and solve the least squares for the 17×3 matrix. The Wan 2.2 VAE comes with published
// factors (WanVaeConfig::preview_rgb_factors), which spares its much larger decoder the fit.
// Applying it costs one small matmul.

#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>

namespace svgear {

// latent [z_dim, T, h, w] → video [3, 1 + t·(T - 1), s·h, s·w] (t, s: the temporal and spatial
// factors), e.g. WanVae::decode.
using LatentVideoDecodeFn = std::function<at::Tensor(const at::Tensor& latent)>;

struct LatentRgbProjection {
  at::Tensor matrix;     // [z_dim + 1, 3] float32 on the CPU; the last row is the bias
  double fit_r2 = 0.0;   // 1 − SS_residual / SS_total over the fit sample, all channels together
                         // (0 for published factors: no fit was made)

  // Fits `decode` on a seeded standard-normal latent (what the DiT's x0 looks like, normalised).
  static LatentRgbProjection fit(const LatentVideoDecodeFn& decode, int z_dim, int temporal_factor,
                                 int spatial_factor);

  // Published factors: `rows` holds z_dim + 1 rows of (R, G, B), the bias last.
  static LatentRgbProjection from_rows(const std::vector<float>& rows);

  // latent: [z_dim, T, h, w], any device → [3, T, h, w] float32 on the latent's device, nominally
  // [-1, 1] like the decoded video.
  at::Tensor apply(const at::Tensor& latent) const;
};

// The decoded video averaged over each latent cell: frame 0 ↔ latent frame 0, frames
// 1 + t·(k - 1) .. t·k ↔ latent frame k (t = temporal_factor), s×s pixel blocks (s = spatial_factor).
// video: [3, 1 + t·(T - 1), s·h, s·w] → [3, T, h, w].
at::Tensor pool_video_to_latent_grid(const at::Tensor& video, int temporal_factor,
                                     int spatial_factor);

}  // namespace svgear
