#pragma once
// Raw-pointer launcher of the layer_norm_affine kernel (see layer_norm_affine.h for the op).

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/row_element.h"

namespace svgear {

struct LayerNormAffineCudaArgs {
  const void* x = nullptr;       // [B, N, dim] in `input`
  // The residual (residual_layer_norm_affine), or all null: the rows normalised are x + y · gate,
  // written to `sum`. Needs `input` Float32 and y in `output`'s type.
  const void* y = nullptr;       // [B, N, dim] in `output`
  const float* gate = nullptr;   // [B, dim], or null with y set: x + y
  float* sum = nullptr;          // [B, N, dim]
  const float* gain = nullptr;   // [dim], or [B, dim] with affine_stride = dim; null: no affine step
  const float* bias = nullptr;   // as gain
  int64_t affine_stride = 0;     // elements between batch entries' gain (and bias) rows: 0 or dim
  void* out = nullptr;           // [B, N, dim] in `output`
  int64_t batch = 0, tokens = 0, dim = 0;
  float eps = 0.0f;
  RowElement input = RowElement::Float32;
  RowElement output = RowElement::BFloat16;
};

// dim a multiple of 8 (whole 16-byte words of 16-bit elements), at most 16384 (a row in registers).
bool layer_norm_affine_cuda_supports(int64_t dim);
void launch_layer_norm_affine(const LayerNormAffineCudaArgs& args, cudaStream_t stream);

}  // namespace svgear
