#include "core/model/text_context.h"

#include <cmath>
#include <utility>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "kernels/block_sparse_attention/block_sparse_attention.h"

namespace svgear {
namespace {

// [B, H, N, d] → [B, N, H·d]
at::Tensor merge_heads(const at::Tensor& o) {
  return o.transpose(1, 2).reshape({o.size(0), o.size(2), o.size(1) * o.size(3)});
}

}  // namespace

TextContext make_text_context(at::Tensor rows, int64_t padding, int64_t heads, int64_t tokens) {
  TORCH_CHECK(rows.dim() == 3 && padding >= 0 && (padding == 0 || rows.size(1) >= 1),
              "text context rows must be [B, Lc, dim] with a padding row when padding > 0, got ", rows.sizes(),
              " and padding ", padding);
  TextContext context;
  context.rows = std::move(rows);
  context.padding = padding;
  const int64_t real = context.rows.size(1) - 1;
  if (padding == 0 || real == 0) return context;
  // On the device, a few fills: a host tensor's copy would wait for the stream.
  const at::TensorOptions longs = at::TensorOptions().dtype(at::kLong).device(context.rows.device());
  context.q_offsets = at::full({heads, 2}, tokens, longs);
  context.q_offsets.select(1, 0).zero_();
  context.k_offsets = at::full({heads, 3}, real, longs);
  context.k_offsets.select(1, 0).zero_();
  context.k_sizes = at::full({heads, 2}, padding, longs);
  context.k_sizes.select(1, 0).fill_(real);
  context.block_mask = at::zeros({heads, 1, 2}, longs.dtype(at::kBool));
  context.block_mask.select(2, 0).fill_(true);
  return context;
}

at::Tensor text_cross_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const TextContext& context) {
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.sizes() == k.sizes() && q.size(0) == k.size(0) &&
                  q.size(1) == k.size(1) && q.size(3) == k.size(3),
              "cross-attention takes q [B, H, N, d] and k, v [B, H, Lc, d], got ", q.sizes(), ", ", k.sizes(),
              ", ", v.sizes());
  const int64_t batch = q.size(0), heads = q.size(1), tokens = q.size(2), head_dim = q.size(3);
  const int64_t padding = context.padding;
  if (padding == 0) return merge_heads(at::scaled_dot_product_attention(q, k, v));
  const int64_t real = k.size(2) - 1;
  const bool autograd = at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  if (autograd || !context.block_mask.defined()) {
    // Upstream's context: the padding row text_len − L times (an expanded view, no copy until SDPA's).
    const auto spelled_out = [&](const at::Tensor& x) {
      return at::cat({x, x.narrow(2, real, 1).expand({batch, heads, padding - 1, head_dim})}, 2);
    };
    return merge_heads(at::scaled_dot_product_attention(q, spelled_out(k), spelled_out(v)));
  }
  TORCH_CHECK(context.block_mask.size(0) == heads, "the text context was made for ", context.block_mask.size(0),
              " heads, cross-attention has ", heads);
  // Tokens first: the heads merge as a view, and the op writes each head's rows in place there.
  at::Tensor out = at::empty({batch, tokens, heads, head_dim}, q.options());
  for (int64_t b = 0; b < batch; ++b) {
    const at::Tensor kb = k[b], vb = v[b];  // [H, Lc, d]
    // Both clusters' centroid is the padding row: cluster 0 is computed, so its centroid is never read.
    const CentroidCompensation padding_row{kb.narrow(1, real, 1).expand({heads, 2, head_dim}),
                                           vb.narrow(1, real, 1).expand({heads, 2, head_dim}), context.k_sizes};
    at::Tensor rows = out[b].transpose(0, 1);  // [H, N, d]
    block_sparse_attention_out(rows, q[b], kb.narrow(1, 0, real), vb.narrow(1, 0, real), context.q_offsets,
                               context.k_offsets, context.block_mask, 1.0 / std::sqrt(double(head_dim)),
                               &padding_row);
  }
  return out.view({batch, tokens, heads * head_dim});
}

}  // namespace svgear
