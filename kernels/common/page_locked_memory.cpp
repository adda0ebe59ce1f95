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

// Runs `release` in `device`'s context without throwing (c10's CUDAGuard throws): a deleter may
// run at exit, after the runtime has gone.
template <typename Release>
void release_on(int device, Release release) {
  int previous = 0;
  const bool switch_device = cuda_ok(cudaGetDevice(&previous)) && previous != device;
  if (switch_device) cuda_ok(cudaSetDevice(device));
  cuda_ok(release());
  if (switch_device) cuda_ok(cudaSetDevice(previous));
}

// Registering pins the pages the tensor already has: several times faster than allocating fresh
// page-locked memory and copying into it, and the host never holds the tensor twice. Only memory
// that nothing else can reach: an alias could read the result's later writes (swap_places lends
// the memory to another tensor), or resize the storage and free memory still registered.
at::Tensor registered_in_place(const at::Tensor& host, int device) {
  const size_t bytes = host.nbytes();
  const bool sole_owner = host.use_count() == 1 && host.storage().use_count() == 1 &&
                          host.storage_offset() == 0 && host.storage().nbytes() == bytes;
  if (!sole_owner || !host.is_contiguous() || bytes == 0) return {};
  void* data = host.data_ptr();
  if (!cuda_ok(cudaHostRegister(data, bytes, cudaHostRegisterPortable))) return {};
  // The deleter holds `host`, so the memory outlives the registration.
  return at::from_blob(
      data, host.sizes(), host.strides(),
      [keep = host, device](void* p) { release_on(device, [p] { return cudaHostUnregister(p); }); },
      host.options());
}

at::Tensor allocated_copy(const at::Tensor& host, int device) {
  const size_t bytes = static_cast<size_t>(host.numel()) * host.element_size();
  void* memory = nullptr;
  if (!cuda_ok(cudaHostAlloc(&memory, bytes == 0 ? 1 : bytes, cudaHostAllocPortable))) return {};
  const auto free_memory = [device](void* p) { release_on(device, [p] { return cudaFreeHost(p); }); };
  at::Tensor copy = at::from_blob(memory, host.sizes(), free_memory, host.options());
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
  const int device = c10::cuda::current_device();
  at::Tensor in_place = registered_in_place(host, device);
  return in_place.defined() ? in_place : allocated_copy(host, device);
#else
  (void)gpu;
  return {};
#endif
}

}  // namespace svgear
