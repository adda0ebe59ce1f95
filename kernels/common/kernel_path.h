#pragma once
// Which code path the CUDA ops take, process-wide (like ATen's SDPA backend switches): the fastest
// the device runs (the default: the wgmma kernels where the GPU runs the build's sm_90a code), the
// portable sm_80 kernels (mma.sync) everywhere, so that their tests and the comparison benchmark
// (`svgear bench attention --kernel mma-sync`) also run them on a Hopper GPU, or every op's ATen
// reference on CUDA tensors too (`--kernel reference`; tests comparing a kernel with its oracle on
// the same device). Ops with a Hopper variant: block-sparse attention and the k-means assignment.

#include <c10/core/Device.h>

namespace svgear {

enum class KernelPath { Fastest, Portable, Reference };

void set_kernel_path(KernelPath path);
KernelPath kernel_path();

// Whether an op's CUDA kernel may serve tensors on `device` (each op then checks its own shapes):
// a CUDA device, a build with the kernels, a path other than Reference, and a GPU of compute
// capability 8.0 or later. Every kernel needs sm_80 (bf16 mma.sync, cp.async; the build has no
// older code), so an older GPU (Turing, sm_75) runs the ATen references: slow but correct, where
// a launch would fail with "no kernel image".
bool cuda_kernels_serve(const c10::Device& device);

// The oldest compute capability (major) the kernels run on.
constexpr int kKernelsMinComputeMajor = 8;

// Sets the path for a scope and restores the previous one however the scope ends.
class ScopedKernelPath {
 public:
  explicit ScopedKernelPath(KernelPath path) : previous_(kernel_path()) { set_kernel_path(path); }
  ~ScopedKernelPath() { set_kernel_path(previous_); }
  ScopedKernelPath(const ScopedKernelPath&) = delete;
  ScopedKernelPath& operator=(const ScopedKernelPath&) = delete;

 private:
  KernelPath previous_;
};

}  // namespace svgear
