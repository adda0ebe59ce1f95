#pragma once
// Work an op runs beside the caller's stream on a side CUDA stream: SideStreamFork's construction
// makes the side stream wait for everything queued on the current stream so far, join() makes the
// current stream wait for everything queued on the side stream since (both graph-capturable). An
// exception before join() still joins, in the destructor, so nothing queued on the side stream
// outlives the op's temporaries.
//
// One side stream per device and host thread, drawn once from LibTorch's pool, which hands its 32
// streams per device round-robin to every caller in the process. So two threads' side streams differ
// while the process has drawn fewer than 32 (the studio runs the engine on one worker thread); past
// that, two threads may share one: still correct (a join then also waits for the other thread's
// work), except that a fork while the other thread captures a CUDA graph on that stream would join
// the capture. Not one from the pool per call: the caching allocator keeps freed blocks per stream,
// so pool streams would spread cached memory over 32 streams.

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAStream.h>

namespace svgear {

class SideStreamFork {
 public:
  explicit SideStreamFork(c10::cuda::CUDAStream current);
  ~SideStreamFork();
  SideStreamFork(const SideStreamFork&) = delete;
  SideStreamFork& operator=(const SideStreamFork&) = delete;

  c10::cuda::CUDAStream side() const { return side_; }
  void join();

 private:
  c10::cuda::CUDAStream current_;
  c10::cuda::CUDAStream side_;
  at::cuda::CUDAEvent fork_;
  at::cuda::CUDAEvent join_;
  bool joined_ = false;
};

}  // namespace svgear
#endif
