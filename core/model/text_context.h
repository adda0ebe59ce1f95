#pragma once
// TextContext: the embedded text a Wan DiT's cross-attention reads, with upstream's padding folded.
//
// Upstream zero-pads the prompt's L encoder rows to text_len (512) before the text MLP and attends
// over all of them, so the text_len − L padding rows reach cross-attention as one key and one value
// repeated. Here the MLP embeds one padding row, and cross-attention counts it `padding` times: n
// identical keys add n·e^{s} to the softmax, i.e. one key with a bias of log n (SVG-EAR's
// compensation, spec §3.2, here exact). The same sums in another order: a 24-token prompt attends
// over 25 keys instead of 512.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace svgear {

struct TextContext {
  at::Tensor rows;      // [B, Lc, dim]: the prompt's rows, then one padding row when padding > 0
  int64_t padding = 0;  // how many rows of upstream's padded context the last row stands for
  // With padding and a real row, the block-sparse op's routing for one batch entry's heads, built
  // once per forward on rows' device: query cluster 0 = every token; key cluster 0 = the real rows
  // (computed), 1 = the padding row (skipped, compensated with weight `padding`).
  at::Tensor q_offsets;   // [H, 2] int64: 0, N
  at::Tensor k_offsets;   // [H, 3] int64: 0, Lc − 1, Lc − 1
  at::Tensor k_sizes;     // [H, 2] int64: Lc − 1, padding
  at::Tensor block_mask;  // [H, 1, 2] bool: true, false
};

// rows [B, Lc, dim] as above, for cross-attention from `tokens` queries in `heads` heads.
TextContext make_text_context(at::Tensor rows, int64_t padding, int64_t heads, int64_t tokens);

// Cross-attention of q [B, H, N, d] over a context's k and v [B, H, Lc, d] (projected from
// context.rows; with padding, row Lc − 1 is the padding row), softmax scale 1/√d. Returns
// [B, N, H·d] (heads merged), in q's dtype.
// Without gradients the padding row is one key of weight `padding` in the block-sparse attention op
// (kernels/block_sparse_attention: the real rows one computed key cluster, the padding row the
// compensation of a skipped one), which reads q in place when each batch entry's heads are
// contiguous and writes the merged heads directly. Under autograd (the trainer), or without
// padding, or with no real row, ATen's SDPA over the rows spelled out, as upstream.
at::Tensor text_cross_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const TextContext& context);

}  // namespace svgear
