#pragma once
// PeakCpuAllocator: a CPU allocator for tests that counts the bytes LibTorch's CPU tensors hold and
// their peak. What a step holds, without the noise of the process's resident size (pages kept
// after a free, libraries): the measure memory estimates are checked against.

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include <c10/core/Allocator.h>

namespace svgear::test {

class PeakCpuAllocator final : public c10::Allocator {
 public:
  // Installs it as LibTorch's CPU allocator on first use (for the rest of the process).
  static PeakCpuAllocator& installed();
  c10::DataPtr allocate(size_t bytes) override;
  c10::DeleterFnPtr raw_deleter() const override;
  void copy_data(void* dest, const void* src, std::size_t count) const override;
  // Starts a measurement: the peak from now, above what is held now (returned).
  int64_t restart();
  int64_t peak();

 private:
  static void release(void* data);
  std::mutex mutex_;
  std::unordered_map<void*, size_t> sizes_;
  int64_t live_ = 0;
  int64_t peak_ = 0;
};

}  // namespace svgear::test
