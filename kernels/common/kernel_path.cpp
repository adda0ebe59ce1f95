#include "kernels/common/kernel_path.h"

#include <atomic>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace svgear {
namespace {

std::atomic<KernelPath> g_path{KernelPath::Fastest};

}  // namespace

void set_kernel_path(KernelPath path) { g_path.store(path); }

KernelPath kernel_path() { return g_path.load(); }

bool cuda_kernels_serve(const c10::Device& device) {
#if SVGEAR_HAVE_CUDA
  if (!device.is_cuda() || kernel_path() == KernelPath::Reference) return false;
  const cudaDeviceProp* properties = device.has_index() ? at::cuda::getDeviceProperties(device.index())
                                                        : at::cuda::getCurrentDeviceProperties();  // cached by ATen
  return properties->major >= kKernelsMinComputeMajor;
#else
  (void)device;
  return false;
#endif
}

}  // namespace svgear
