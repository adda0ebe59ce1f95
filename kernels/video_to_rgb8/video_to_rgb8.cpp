#include "kernels/video_to_rgb8/video_to_rgb8.h"

#include <ATen/ATen.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "kernels/common/kernel_path.h"
#include "kernels/video_to_rgb8/video_to_rgb8_cuda.cuh"
#endif

namespace svgear {

#if SVGEAR_HAVE_CUDA
namespace {

at::Tensor video_to_rgb8_cuda(const at::Tensor& video_f32) {
  const c10::cuda::CUDAGuard device_guard(video_f32.device());
  const int64_t frames = video_f32.size(1);
  const int64_t pixels = video_f32.size(2) * video_f32.size(3);
  at::Tensor rgb = at::empty({frames, video_f32.size(2), video_f32.size(3), 3},
                             video_f32.options().dtype(at::kByte));
  if (rgb.numel() == 0) return rgb;
  launch_video_to_rgb8(video_f32.data_ptr<float>(), rgb.data_ptr<uint8_t>(), frames, pixels,
                       at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return rgb;
}

}  // namespace
#endif

at::Tensor video_to_rgb8(const at::Tensor& video) {
  TORCH_CHECK(video.dim() == 4 && video.size(0) == 3, "video must be [3, F, H, W], got ", video.sizes());
  TORCH_CHECK(at::isFloatingType(video.scalar_type()), "video must be floating point, got ",
              video.scalar_type());
  at::Tensor video_f32 = video.to(at::kFloat).contiguous();
#if SVGEAR_HAVE_CUDA
  if (cuda_kernels_serve(video_f32.device())) return video_to_rgb8_cuda(video_f32);
#endif
  TORCH_CHECK(video_f32.is_cpu() || video_f32.is_cuda(), "video_to_rgb8: unsupported device ", video_f32.device());
  return video_to_rgb8_reference(video_f32);
}

}  // namespace svgear
