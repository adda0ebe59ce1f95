#include "tests/support/peak_cpu_allocator.h"

#include <algorithm>

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

namespace svgear::test {

PeakCpuAllocator& PeakCpuAllocator::installed() {
  static PeakCpuAllocator* allocator = [] {
    auto* a = new PeakCpuAllocator;
    c10::SetCPUAllocator(a, /*priority=*/100);
    return a;
  }();
  return *allocator;
}

// Its data pointers are their own context, as raw_allocate requires.
c10::DataPtr PeakCpuAllocator::allocate(size_t bytes) {
  void* data = c10::alloc_cpu(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  sizes_[data] = bytes;
  live_ += int64_t(bytes);
  peak_ = std::max(peak_, live_);
  return {data, data, &release, c10::Device(c10::kCPU)};
}

c10::DeleterFnPtr PeakCpuAllocator::raw_deleter() const { return &release; }

void PeakCpuAllocator::copy_data(void* dest, const void* src, std::size_t count) const {
  default_copy_data(dest, src, count);
}

int64_t PeakCpuAllocator::restart() {
  std::lock_guard<std::mutex> lock(mutex_);
  peak_ = live_;
  return live_;
}

int64_t PeakCpuAllocator::peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_;
}

void PeakCpuAllocator::release(void* data) {
  if (!data) return;
  PeakCpuAllocator& self = installed();
  {
    std::lock_guard<std::mutex> lock(self.mutex_);
    const auto it = self.sizes_.find(data);
    self.live_ -= int64_t(it->second);
    self.sizes_.erase(it);
  }
  c10::free_cpu(data);
}

}  // namespace svgear::test
