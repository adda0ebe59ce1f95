#pragma once
// The 16-bit input types of the tensor-core kernels, named in their plain C++ launch APIs (the .cu
// files map them to __nv_bfloat16 / __half).

namespace svgear {

enum class HalfPrecision { BFloat16, Float16 };

}  // namespace svgear
