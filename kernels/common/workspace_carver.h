#pragma once
// WorkspaceCarver: lays a kernel's scratch arrays out in one preallocated buffer, each at a 256-byte
// boundary (the allocator's alignment, enough for any vector access). With a null base it hands out
// null pointers and only adds up the size, so one carve function both sizes and partitions.

#include <cstdint>

namespace svgear {

class WorkspaceCarver {
 public:
  explicit WorkspaceCarver(void* base) : base_(static_cast<char*>(base)) {}

  template <typename T>
  T* take(int64_t count) {
    T* at = base_ ? reinterpret_cast<T*>(base_ + bytes_) : nullptr;
    bytes_ += (count * int64_t(sizeof(T)) + 255) / 256 * 256;
    return at;
  }
  int64_t bytes() const { return bytes_; }

 private:
  char* base_;
  int64_t bytes_ = 0;
};

}  // namespace svgear
