#pragma once
// The element types of the row kernels (rms_norm_rope, layer_norm_affine), named in their plain C++
// launch APIs; the .cu files map them to __nv_bfloat16 / __half / float (row_element_dispatch.cuh),
// the adapters from at::ScalarType (row_element_of.h).

namespace svgear {

enum class RowElement { BFloat16, Float16, Float32 };

}  // namespace svgear
