#include "kernels/common/page_locked_memory.h"

#include <ATen/ATen.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace svgear {

at::Tensor page_locked_copy(const at::Tensor& host, at::Device gpu) {
  TORCH_CHECK(host.device().is_cpu(), "page_locked_copy takes a CPU tensor");
#if SVGEAR_HAVE_CUDA
  if (!gpu.is_cuda() || !at::hasCUDA()) return {};
  const c10::cuda::CUDAGuard on_gpu(gpu);
  const size_t bytes = static_cast<size_t>(host.numel()) * host.element_size();
  void* memory = nullptr;
  if (cudaHostAlloc(&memory, bytes == 0 ? 1 : bytes, cudaHostAllocPortable) != cudaSuccess) {
    (void)cudaGetLastError();  // a refusal is not an error of the next CUDA call
    return {};
  }
  // A failure to free (the runtime already gone at exit) is not an error of the next CUDA call either.
  const auto free_memory = [](void* p) {
    if (cudaFreeHost(p) != cudaSuccess) (void)cudaGetLastError();
  };
  at::Tensor copy = at::from_blob(memory, host.sizes(), free_memory, host.options());
  copy.copy_(host);
  return copy;
#else
  (void)gpu;
  return {};
#endif
}

}  // namespace svgear
