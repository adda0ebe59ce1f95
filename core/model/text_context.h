#pragma once
// TextContext: the embedded text a Wan DiT's cross-attention reads, with upstream's padding folded.
//
// Upstream zero-pads the prompt's L encoder rows to text_len (512) before the text MLP and attends
// over all of them, so the text_len − L padding rows reach cross-attention as one key and one value
// repeated. Here the MLP embeds one padding row, and cross-attention counts it `padding` times: n
// identical keys add n·e^{s} to the softmax, i.e. one key whose logit is raised by log n. The same
// sums in another order: a 24-token prompt attends over 25 keys instead of 512.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace svgear {

struct TextContext {
  at::Tensor rows;      // [B, Lc, dim]: the prompt's rows, then one padding row when padding > 0
  int64_t padding = 0;  // how many rows of upstream's padded context the last row stands for
};

// Cross-attention of q [B, H, N, d] over a context's k and v [B, H, Lc, d] (projected from
// TextContext::rows; with padding, row Lc − 1 is the padding row), softmax scale 1/√d. Returns
// [B, N, H·d] (heads merged) in q's dtype. With padding, short_context_attention with the padding
// row's logit raised by log(padding) (its kernel for bf16 / fp16 on a GPU at d = 64 or 128 and up to
// 64 rows, else its reference). ATen's SDPA instead under autograd (the trainer) and for a context
// of more than 64 rows on a GPU, over upstream's rows (the padding row spelled out), and without
// padding.
at::Tensor text_cross_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t padding);

}  // namespace svgear
