#pragma once
// Which code path the CUDA ops that have a Hopper variant take, process-wide (like ATen's SDPA
// backend switches): the fastest the device runs (the default: the wgmma kernels where the GPU runs
// the build's sm_90a code), or the portable sm_80 kernels (mma.sync) everywhere, so that their tests
// and the comparison benchmark (`svgear bench attention --kernel mma-sync`) also run them on a
// Hopper GPU. Ops with such a variant: block-sparse attention and the k-means assignment.

namespace svgear {

enum class KernelPath { Fastest, Portable };

void set_kernel_path(KernelPath path);
KernelPath kernel_path();

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
