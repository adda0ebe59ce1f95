#include "core/decoder/latent_rgb_projection.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace svgear {
namespace {

// The fit sample: 3 latent frames (the one-frame first chunk, then four-frame chunks with partial
// and with full caches, as most of a video has) of 8×8, i.e. 9 frames of 64×64 and 192 cells for
// 17 unknowns per colour. Its decode with the real VAE's shapes took 26 s on a 2-core CPU under a
// load of 9, which is why the sample is no larger.
constexpr int64_t kFitFrames = 3;
constexpr int64_t kFitSize = 8;
constexpr uint64_t kFitSeed = 20250;

}  // namespace

at::Tensor pool_video_to_latent_grid(const at::Tensor& video, int temporal_factor,
                                     int spatial_factor) {
  const int64_t c = video.size(0);
  const int64_t later = (video.size(1) - 1) / temporal_factor;
  const int64_t h = video.size(2) / spatial_factor;
  const int64_t w = video.size(3) / spatial_factor;
  at::Tensor frames = at::cat(
      {video.narrow(1, 0, 1),
       video.narrow(1, 1, later * temporal_factor)
           .reshape({c, later, temporal_factor, video.size(2), video.size(3)})
           .mean(2)},
      1);                                                               // [3, T, s·h, s·w]
  return frames.reshape({c, later + 1, h, spatial_factor, w, spatial_factor}).mean({3, 5});
}

LatentRgbProjection LatentRgbProjection::fit(const LatentVideoDecodeFn& decode, int z_dim,
                                             int temporal_factor, int spatial_factor) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(kFitSeed);
  const at::Tensor latent = at::randn({z_dim, kFitFrames, kFitSize, kFitSize}, generator,
                                      at::TensorOptions().dtype(at::kFloat));
  const at::Tensor pooled = pool_video_to_latent_grid(decode(latent).to(at::kCPU, at::kFloat),
                                                      temporal_factor, spatial_factor);

  // rows: latent cells; columns: the z_dim channels and a constant 1 for the bias
  const at::Tensor inputs = at::cat({latent.flatten(1).t(), at::ones({latent[0].numel(), 1})}, 1)
                                .to(at::kDouble);                      // [N, z_dim + 1]
  const at::Tensor targets = pooled.flatten(1).t().to(at::kDouble);   // [N, 3]
  const at::Tensor matrix = std::get<0>(at::linalg_lstsq(inputs, targets));  // [z_dim + 1, 3]

  LatentRgbProjection projection;
  projection.matrix = matrix.to(at::kFloat);
  const double residual = (at::matmul(inputs, matrix) - targets).pow(2).sum().item<double>();
  const double total = (targets - targets.mean(0)).pow(2).sum().item<double>();
  projection.fit_r2 = 1.0 - residual / total;
  return projection;
}

LatentRgbProjection LatentRgbProjection::from_rows(const std::vector<float>& rows) {
  TORCH_CHECK(!rows.empty() && rows.size() % 3 == 0, "preview factors must be rows of 3, got ",
              rows.size(), " numbers");
  LatentRgbProjection projection;
  projection.matrix = at::tensor(rows, at::TensorOptions().dtype(at::kFloat)).view({-1, 3});
  return projection;
}

at::Tensor LatentRgbProjection::apply(const at::Tensor& latent) const {
  const int64_t channels = matrix.size(0) - 1;
  TORCH_CHECK(latent.dim() == 4 && latent.size(0) == channels, "preview latent must be [",
              channels, ", T, h, w], got ", latent.sizes());
  const at::Tensor m = matrix.to(latent.device());
  at::Tensor rgb = at::matmul(latent.to(at::kFloat).permute({1, 2, 3, 0}), m.narrow(0, 0, channels)) +
                   m[channels];                                         // [T, h, w, 3]
  return rgb.permute({3, 0, 1, 2});                                     // [3, T, h, w]
}

}  // namespace svgear
