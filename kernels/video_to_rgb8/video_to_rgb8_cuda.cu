#include "kernels/video_to_rgb8/video_to_rgb8_cuda.cuh"

namespace svgear {
namespace {

// One thread per pixel: three coalesced planar float loads, three byte stores. The op is a pure
// copy (16 bytes per pixel moved), so a plain grid-stride loop already runs at memory bandwidth.
constexpr int kThreadsPerBlock = 256;

__device__ __forceinline__ uint8_t to_code(float x) {
  const float clamped = fminf(fmaxf(x, -1.0f), 1.0f);
  return static_cast<uint8_t>(__float2int_rn((clamped + 1.0f) * 127.5f));  // round half to even
}

__global__ void video_to_rgb8_kernel(const float* __restrict__ video, uint8_t* __restrict__ rgb,
                                     int64_t plane, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    rgb[3 * i + 0] = to_code(video[i]);
    rgb[3 * i + 1] = to_code(video[plane + i]);
    rgb[3 * i + 2] = to_code(video[2 * plane + i]);
  }
}

}  // namespace

void launch_video_to_rgb8(const float* video, uint8_t* rgb, int64_t frames, int64_t pixels,
                          cudaStream_t stream) {
  const int64_t total = frames * pixels;  // one channel plane covers every frame
  const int64_t wanted = (total + kThreadsPerBlock - 1) / kThreadsPerBlock;
  const int blocks = static_cast<int>(wanted < 65535 ? wanted : 65535);
  video_to_rgb8_kernel<<<blocks, kThreadsPerBlock, 0, stream>>>(video, rgb, total, total);
}

}  // namespace svgear
