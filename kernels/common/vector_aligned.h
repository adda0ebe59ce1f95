#pragma once
// The CUDA kernels read rows with 16-byte loads (cp.async, uint4), so a tensor handed to them must
// start on a 16-byte boundary. contiguous() returns a contiguous view as it is, storage offset and
// all (a slice of a larger tensor may start anywhere); a copy comes from the allocator, aligned.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace svgear {

inline at::Tensor vector_aligned(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return reinterpret_cast<uintptr_t>(c.data_ptr()) % 16 == 0 ? c : c.clone(at::MemoryFormat::Contiguous);
}

}  // namespace svgear
