#pragma once
// Allocation failures that LibTorch reports as a plain c10::Error rather than c10::OutOfMemoryError
// (its caching allocator's own), told apart by their text, so that every layer that falls back or
// says what to lower on out of memory sees them as one (the attention's cuDNN, the VAE's tiles,
// the generator's message).

#include <string>

#include <c10/util/Exception.h>

namespace svgear {

// LibTorch's CPU allocator failing (its text has changed between versions: "not enough memory",
// then "can't allocate memory"), or cuDNN's host memory.
inline bool is_host_allocation_failure(const c10::Error& error) {
  const std::string what = error.what_without_backtrace();
  return (what.find("DefaultCPUAllocator") != std::string::npos &&
          (what.find("not enough memory") != std::string::npos || what.find("can't allocate memory") != std::string::npos)) ||
         what.find("CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED") != std::string::npos;
}

// A GPU allocation outside the caching allocator failing: cuBLAS's and cuDNN's own (a handle,
// a library's scratch memory: "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling
// `cublasCreate(handle)`", cuDNN 9's CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED: its
// older CUDNN_STATUS_ALLOC_FAILED is now an alias of the host's, which cudnnGetErrorString never
// prints) and the CUDA runtime's ("CUDA error: out of memory", e.g. creating the context while
// another process fills the GPU).
inline bool is_gpu_library_allocation_failure(const c10::Error& error) {
  const std::string what = error.what_without_backtrace();
  return what.find("CUBLAS_STATUS_ALLOC_FAILED") != std::string::npos ||
         what.find("CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED") != std::string::npos ||
         what.find("CUDA error: out of memory") != std::string::npos;
}

// Either kind of GPU allocation failure: the caching allocator's or a library's.
inline bool is_gpu_allocation_failure(const c10::Error& error) {
  return dynamic_cast<const c10::OutOfMemoryError*>(&error) != nullptr || is_gpu_library_allocation_failure(error);
}

}  // namespace svgear
