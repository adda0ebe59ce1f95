#pragma once
// One side CUDA stream per device, for ops that run part of their work beside the caller's stream:
// an event recorded on the current stream forks the side stream off it, and one recorded on the
// side stream joins it back before the op returns (both graph-capturable). One stream for the whole
// process, not one from the pool per call: the caching allocator keeps freed blocks per stream, so
// pool streams would spread cached memory over 32 streams. Ops that fork hold no work on the side
// stream past their join, so they can share it.

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <c10/cuda/CUDAStream.h>

namespace svgear {

c10::cuda::CUDAStream side_stream(c10::DeviceIndex device);

}  // namespace svgear
#endif
