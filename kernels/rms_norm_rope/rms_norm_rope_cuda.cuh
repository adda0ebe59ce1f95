#pragma once
// Raw-pointer launcher of the rms_norm_rope kernel (see rms_norm_rope.h for the op).

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/row_element.h"

namespace svgear {

struct RmsNormRopeCudaArgs {
  const void* x = nullptr;         // [B, N, heads·d] in `input`
  const float* weight = nullptr;   // [heads·d], or null: no norm
  const float* rotation = nullptr; // [N, d/2] (cos, sin) pairs, or null: no rotation
  void* out = nullptr;             // [B, heads, N, d] in `output`, or [B, N, heads, d] if tokens_first
  int64_t batch = 0, tokens = 0, heads = 0, head_dim = 0;
  float eps = 0.0f;
  RowElement input = RowElement::BFloat16;
  RowElement output = RowElement::BFloat16;
  bool tokens_first = false;
};

// d a multiple of 8 (whole 16-byte words of 16-bit elements, four channel pairs per lane step).
bool rms_norm_rope_cuda_supports(int64_t head_dim);
void launch_rms_norm_rope(const RmsNormRopeCudaArgs& args, cudaStream_t stream);

}  // namespace svgear
