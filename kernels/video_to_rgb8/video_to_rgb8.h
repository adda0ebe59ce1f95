#pragma once
// video_to_rgb8: model-space video → displayable 8-bit RGB frames.
//
//   video: [3, F, H, W], any floating dtype, values nominally in [-1, 1], CPU or CUDA
//   returns: [F, H, W, 3] uint8 on the same device, round_half_even((clamp(x, -1, 1) + 1) * 127.5)
//
// Runs after every sampling step for the live preview, so on the GPU it converts before the copy to
// the host (a quarter of the bytes of float32). CUDA agrees with the CPU reference to within 1 code
// value (fused multiply-add can move a value across a rounding boundary).

#include <ATen/core/Tensor.h>

namespace svgear {

at::Tensor video_to_rgb8(const at::Tensor& video);

// The ATen reference for CPU and CUDA tensors; call video_to_rgb8, which validates.
at::Tensor video_to_rgb8_reference(const at::Tensor& video_f32);

}  // namespace svgear
