#include "kernels/common/side_stream.h"

#if SVGEAR_HAVE_CUDA
#include <map>

namespace svgear {
namespace {

c10::cuda::CUDAStream side_stream(c10::DeviceIndex device) {
  thread_local std::map<c10::DeviceIndex, c10::cuda::CUDAStream> streams;
  auto it = streams.find(device);
  if (it == streams.end()) it = streams.emplace(device, c10::cuda::getStreamFromPool(false, device)).first;
  return it->second;
}

}  // namespace

SideStreamFork::SideStreamFork(c10::cuda::CUDAStream current)
    : current_(current), side_(side_stream(current.device_index())) {
  fork_.record(current_);
  fork_.block(side_);
}

SideStreamFork::~SideStreamFork() {
  if (joined_) return;
  try {
    join();
  } catch (...) {  // already unwinding from the error that skipped join(); that one is reported
  }
}

void SideStreamFork::join() {
  joined_ = true;
  join_.record(side_);
  join_.block(current_);
}

}  // namespace svgear
#endif
