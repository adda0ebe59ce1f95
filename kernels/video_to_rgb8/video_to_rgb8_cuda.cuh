#pragma once
// Raw-pointer launcher of the video_to_rgb8 kernel (see video_to_rgb8.h for the op).

#include <cstdint>

#include <cuda_runtime_api.h>

namespace svgear {

// video: [3, frames, pixels] float32 (planar), rgb: [frames, pixels, 3] uint8 (interleaved).
void launch_video_to_rgb8(const float* video, uint8_t* rgb, int64_t frames, int64_t pixels,
                          cudaStream_t stream);

}  // namespace svgear
