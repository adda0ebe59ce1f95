#include "kernels/common/page_locked_memory.h"

#include <ATen/ATen.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace svgear {

at::Tensor page_locked_copy(const at::Tensor& host) {
  TORCH_CHECK(host.device().is_cpu(), "page_locked_copy takes a CPU tensor");
#if SVGEAR_HAVE_CUDA
  if (!at::hasCUDA()) return {};
  const size_t bytes = static_cast<size_t>(host.numel()) * host.element_size();
  void* memory = nullptr;
  // Portable: page-locked for every GPU of the process, not only the current one.
  if (cudaHostAlloc(&memory, bytes == 0 ? 1 : bytes, cudaHostAllocPortable) != cudaSuccess) {
    (void)cudaGetLastError();  // a refusal is not an error of the next CUDA call
    return {};
  }
  at::Tensor copy = at::from_blob(memory, host.sizes(), [](void* p) { (void)cudaFreeHost(p); }, host.options());
  copy.copy_(host);
  return copy;
#else
  (void)host;
  return {};
#endif
}

}  // namespace svgear
