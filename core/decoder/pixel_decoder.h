#pragma once
// PixelDecoder: for models that work directly on RGB pixels in [-1, 1] (the built-in model).

#include "core/decoder/latent_decoder.h"

namespace svgear {

class PixelDecoder : public LatentDecoder {
 public:
  LatentShape latent_shape(int frames, int height, int width) const override;
  Video decode(const at::Tensor& latent, double fps, const CancelToken* cancel = nullptr,
               DecodeReport* report = nullptr) const override;
};

}  // namespace svgear
