#pragma once
// Calls launch(T{}, std::integral_constant<int, D>{}) for a tensor-core kernel's element type T
// (__nv_bfloat16 or __half) and head dim D (64, else 128: the ops send only those): the one place
// where HalfPrecision and a runtime head dim become template arguments.

#include <cstdint>
#include <type_traits>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/common/half_precision.h"

namespace svgear {

template <typename Launch>
void dispatch_half_head_dim(HalfPrecision element, int64_t head_dim, const Launch& launch) {
  using Dim64 = std::integral_constant<int, 64>;
  using Dim128 = std::integral_constant<int, 128>;
  const bool bf16 = element == HalfPrecision::BFloat16;
  if (head_dim == 64) {
    bf16 ? launch(__nv_bfloat16{}, Dim64{}) : launch(__half{}, Dim64{});
  } else {
    bf16 ? launch(__nv_bfloat16{}, Dim128{}) : launch(__half{}, Dim128{});
  }
}

}  // namespace svgear
