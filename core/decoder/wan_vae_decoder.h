#pragma once
// WanVaeDecoder: the LatentDecoder of Wan models — the Wan VAE (2.1, or 2.2 for Wan2.2-TI2V-5B)
// for the final video and a per-pixel projection for live previews (fitted to the 2.1 VAE,
// published for the 2.2 VAE).
//
// On a GPU the final video decodes whole frames, as upstream does: the middle block's attention
// spans the frame, so tiles change every pixel a little, not only where they meet. If whole frames
// run out of GPU memory, it decodes them in tiles (LatentTiling) and says so, and later decodes of
// that frame size go to tiles at once. On the CPU it always decodes in tiles: there, running out of
// memory is not an error but the kernel killing the process, so the memory is bounded by the tile.
//
//   auto decoder = WanVaeDecoder::open("wan_2.1_vae.safetensors", at::kCUDA, at::kFloat);
//   LatentShape shape = decoder->latent_shape(81, 480, 832);   // {16, 21, 60, 104}
//   Video video = decoder->decode(latent, 16.0);               // latent [16, 21, 60, 104]
//   // wan2.2_vae.safetensors: latent_shape(121, 704, 1280) is {48, 31, 44, 80}

#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include <ATen/core/Tensor.h>

#include "core/decoder/latent_decoder.h"
#include "core/decoder/latent_rgb_projection.h"
#include "core/decoder/latent_tiling.h"
#include "core/decoder/wan_vae.h"

namespace svgear {

class WanVaeDecoder : public LatentDecoder {
 public:
  // Loads the VAE (WanVaeWeights::load) for `device`. The CPU computes in float32 whatever
  // `dtype` asks; CUDA in float32 (upstream's) or bfloat16. Throws UserError for other dtypes.
  static std::unique_ptr<WanVaeDecoder> open(const std::filesystem::path& path, at::Device device,
                                             at::ScalarType dtype, LatentTiling tiling = {});

  explicit WanVaeDecoder(WanVae vae, LatentTiling tiling = {});

  // (z_dim, (frames - 1)/4 + 1, height/s, width/s), s = 8 (2.1) or 16 (2.2); throws UserError
  // naming the nearest valid sizes when frames is not 4n + 1 or a side is not a multiple of s.
  LatentShape latent_shape(int frames, int height, int width) const override;
  // latent: [z_dim, T, h, w]; another channel count is a UserError (a DiT of another family).
  Video decode(const at::Tensor& latent, double fps, const CancelToken* cancel = nullptr,
               DecodeReport* report = nullptr) const override;
  // The projection, each latent cell filling s×s pixels and 4 frames (1 for the first).
  Video preview(const at::Tensor& latent, double fps) const override;

  // decode before the 8-bit conversion: [3, F, H, W] float32, unclamped.
  at::Tensor decode_tensor(const at::Tensor& latent, const CancelToken* cancel = nullptr,
                           DecodeReport* report = nullptr) const;
  // The preview projection: the published one of the 2.2 VAE, or fitted on first use with one
  // decode of a 3×8×8 latent (26 s for the real 2.1 VAE on a loaded 2-core CPU).
  const LatentRgbProjection& preview_projection() const;
  const WanVae& vae() const { return vae_; }

 private:
  WanVae vae_;
  LatentTiling tiling_;
  // Latent sizes (h, w) whose whole frames ran out of GPU memory: tiles at once the next time.
  mutable std::mutex too_big_mutex_;
  mutable std::set<std::pair<int64_t, int64_t>> whole_frames_too_big_;
  mutable std::once_flag projection_fitted_;
  mutable LatentRgbProjection projection_;
};

}  // namespace svgear
