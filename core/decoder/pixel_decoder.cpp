#include "core/decoder/pixel_decoder.h"

#include <cstring>

#include <ATen/ATen.h>

#include "kernels/video_to_rgb8/video_to_rgb8.h"

namespace svgear {

LatentShape PixelDecoder::latent_shape(int frames, int height, int width) const {
  return {3, frames, height, width};
}

Video PixelDecoder::decode(const at::Tensor& latent, double fps, const CancelToken*, DecodeReport*) const {
  at::Tensor rgb = video_to_rgb8(latent).cpu();  // [F, H, W, 3] uint8
  Video video;
  video.frames = int(rgb.size(0));
  video.height = int(rgb.size(1));
  video.width = int(rgb.size(2));
  video.fps = fps;
  video.rgb.resize(size_t(rgb.numel()));
  if (!video.rgb.empty()) std::memcpy(video.rgb.data(), rgb.data_ptr<uint8_t>(), video.rgb.size());
  return video;
}

}  // namespace svgear
