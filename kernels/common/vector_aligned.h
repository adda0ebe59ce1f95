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

// Whether a kernel that takes t's strides can read or write its rows (the last dim) in place: each
// row contiguous and starting on a 16-byte boundary, i.e. t's start aligned and every other stride
// whole 16-byte words (a dim of size one never moves the address).
inline bool rows_vector_aligned(const at::Tensor& t) {
  const int64_t bytes = t.element_size();
  bool aligned = t.dim() >= 1 && t.stride(t.dim() - 1) == 1 && reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
  for (int64_t dim = 0; dim + 1 < t.dim(); ++dim) {
    aligned = aligned && (t.size(dim) == 1 || (t.stride(dim) * bytes) % 16 == 0);
  }
  return aligned;
}

// t as it is for kernels that take its strides when rows_vector_aligned (a view of the DiT's
// tokens-first [N, H, d] values at B = 1, read in place), else vector_aligned's copy.
inline at::Tensor row_aligned(const at::Tensor& t) { return rows_vector_aligned(t) ? t : vector_aligned(t); }

}  // namespace svgear
