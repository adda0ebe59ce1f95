#pragma once
// Raw-pointer launcher of the short_context_attention kernel (see short_context_attention.h).

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/half_precision.h"

namespace svgear {

constexpr int kShortContextMaxKeys = 64;  // one tile: eight n8 columns of S, four k16 steps of P·V

struct ShortContextAttentionArgs {
  // q and out: [B, H, N, d] at their strides (elements): d contiguous, a 16-byte aligned base, and
  // batch, head and row strides that are multiples of 8 elements (16-byte pieces of every row).
  const void* q = nullptr;
  const void* k = nullptr;  // [B·H, L, d] contiguous
  const void* v = nullptr;  // [B·H, L, d] contiguous
  void* out = nullptr;
  int64_t batch = 0, heads = 0, tokens = 0, head_dim = 0, keys = 0;
  int64_t q_batch_stride = 0, q_head_stride = 0, q_row_stride = 0;
  int64_t out_batch_stride = 0, out_head_stride = 0, out_row_stride = 0;
  float scale = 0.0f;
  float key_log_weights[kShortContextMaxKeys] = {};  // the first `keys` are used
  HalfPrecision element = HalfPrecision::BFloat16;
};

bool short_context_attention_cuda_supports(int64_t head_dim, int64_t keys);
// Needs 1 <= batch·heads <= 65535 (the grid's y) and tokens >= 1.
void launch_short_context_attention(const ShortContextAttentionArgs& args, cudaStream_t stream);

}  // namespace svgear
