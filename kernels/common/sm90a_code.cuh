#pragma once
// Where the wgmma kernels can run: the build holds sm_90a code (SVGEAR_CUDA_SM90A, set from the
// CUDA architectures) and the current device loads it (an sm_90 GPU). The runtime then reports the
// binary version 90 for a kernel of that code (an sm_90 build without the "a" would report 90 too,
// with an empty kernel, hence the build check; one the driver compiled from the build's compute_80
// PTX, on a GPU past Hopper, reports that GPU's version). Every kernel of one build answers alike, so
// the answer is cached per device, whichever kernel asked first.

#include <atomic>

#include <cuda_runtime_api.h>

namespace svgear {

inline bool sm90a_code_runs_here(const void* kernel) {
#if SVGEAR_CUDA_SM90A
  static std::atomic<int> cached[64];  // 0 unknown, 1 yes, 2 no
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= 64) return false;
  int known = cached[device].load(std::memory_order_relaxed);
  if (known == 0) {
    cudaFuncAttributes attributes{};
    const bool yes = cudaFuncGetAttributes(&attributes, kernel) == cudaSuccess && attributes.binaryVersion == 90;
    known = yes ? 1 : 2;
    cached[device].store(known, std::memory_order_relaxed);
  }
  return known == 1;
#else
  (void)kernel;
  return false;
#endif
}

}  // namespace svgear
