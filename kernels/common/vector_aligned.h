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

// A [BH, N, d] tensor for kernels that take its head and row strides: as it is when every row is
// contiguous and starts on a 16-byte boundary (a view of the DiT's tokens-first [N, H, d] values
// at B = 1, read in place), else vector_aligned's copy.
inline at::Tensor row_aligned(const at::Tensor& t) {
  const int64_t bytes = t.element_size();
  const bool in_place = t.dim() == 3 && t.stride(2) == 1 && (t.stride(0) * bytes) % 16 == 0 &&
                        (t.stride(1) * bytes) % 16 == 0 && reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
  return in_place ? t : vector_aligned(t);
}

}  // namespace svgear
