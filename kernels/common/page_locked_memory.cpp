#include "kernels/common/page_locked_memory.h"

#include <ATen/ATen.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace svgear {

#if SVGEAR_HAVE_CUDA
namespace {

// A refusal, or a failure to release at exit (the runtime already gone), is not an error of the
// next CUDA call.
bool cuda_ok(cudaError_t status) {
  if (status == cudaSuccess) return true;
  (void)cudaGetLastError();
  return false;
}

// Registering pins the pages the tensor already has (no copy): several times faster than allocating
// fresh page-locked memory and copying into it, and the host never holds the tensor twice.
at::Tensor registered_in_place(const at::Tensor& host) {
  const size_t bytes = host.nbytes();
  if (!host.is_contiguous() || bytes == 0) return {};
  void* data = host.data_ptr();
  if (!cuda_ok(cudaHostRegister(data, bytes, cudaHostRegisterPortable))) return {};
  // The deleter holds `host`, so its memory outlives the registration.
  return at::from_blob(
      data, host.sizes(), host.strides(),
      [keep = host](void* p) { cuda_ok(cudaHostUnregister(p)); }, host.options());
}

at::Tensor allocated_copy(const at::Tensor& host) {
  const size_t bytes = static_cast<size_t>(host.numel()) * host.element_size();
  void* memory = nullptr;
  if (!cuda_ok(cudaHostAlloc(&memory, bytes == 0 ? 1 : bytes, cudaHostAllocPortable))) return {};
  at::Tensor copy = at::from_blob(memory, host.sizes(), [](void* p) { cuda_ok(cudaFreeHost(p)); }, host.options());
  copy.copy_(host);
  return copy;
}

}  // namespace
#endif

at::Tensor page_locked(const at::Tensor& host, at::Device gpu) {
  TORCH_CHECK(host.device().is_cpu(), "page_locked takes a CPU tensor");
#if SVGEAR_HAVE_CUDA
  if (!gpu.is_cuda() || !at::hasCUDA()) return {};
  // LibTorch takes no pointer for page-locked (is_pinned, and its copies' choice of path) before it
  // has initialised CUDA itself, whatever the runtime says.
  at::globalContext().lazyInitDevice(at::kCUDA);
  const c10::cuda::CUDAGuard on_gpu(gpu);
  at::Tensor in_place = registered_in_place(host);
  return in_place.defined() ? in_place : allocated_copy(host);
#else
  (void)gpu;
  return {};
#endif
}

}  // namespace svgear
