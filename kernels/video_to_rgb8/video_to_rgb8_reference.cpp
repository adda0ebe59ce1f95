#include <ATen/ATen.h>

#include "kernels/video_to_rgb8/video_to_rgb8.h"

namespace svgear {

at::Tensor video_to_rgb8_reference(const at::Tensor& video_f32) {
  at::Tensor scaled = (video_f32.clamp(-1.0, 1.0) + 1.0) * 127.5;  // [3, F, H, W] in [0, 255]
  return at::round(scaled).to(at::kByte).permute({1, 2, 3, 0}).contiguous();  // [F, H, W, 3]
}

}  // namespace svgear
