#pragma once
// LatentDecoder: the model's sample space → RGB video. Identity-like for pixel-space models (the
// built-in model), the Wan VAE for Wan models. It also says how big the latent of a video is.

#include <string>

#include <ATen/core/Tensor.h>

#include "core/cancel_token.h"
#include "core/media/video.h"

namespace svgear {

// How a decode went where it could not go as the model's own does (LatentDecoder::decode).
struct DecodeReport {
  // The Wan VAE's whole frames ran out of GPU memory, so it decoded them in tiles.
  bool tiles_after_out_of_memory = false;
  std::string note;  // what the user should know, for the run's log; empty when nothing happened
};

struct LatentShape {
  int channels = 0;
  int frames = 0;
  int height = 0;
  int width = 0;
};

class LatentDecoder {
 public:
  virtual ~LatentDecoder() = default;
  // Latent of a frames × height × width video; throws UserError for sizes the decoder cannot make.
  virtual LatentShape latent_shape(int frames, int height, int width) const = 0;
  // latent: [C, F, H, W] on any device → 8-bit RGB frames. `cancel`, when given, is polled while a
  // slow decoder works (the Wan VAE: before each latent frame) and throws Cancelled. `report`, when
  // given, says how the decode differed from the model's own, once it has succeeded.
  virtual Video decode(const at::Tensor& latent, double fps, const CancelToken* cancel = nullptr,
                       DecodeReport* report = nullptr) const = 0;
  // A cheap approximation for live previews; the full decode by default.
  virtual Video preview(const at::Tensor& latent, double fps) const { return decode(latent, fps); }
};

}  // namespace svgear
