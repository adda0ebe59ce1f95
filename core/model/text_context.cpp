#include "core/model/text_context.h"

#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "kernels/short_context_attention/short_context_attention.h"

namespace svgear {

at::Tensor text_cross_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t padding) {
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.sizes() == k.sizes() && q.size(0) == k.size(0) &&
                  q.size(1) == k.size(1) && q.size(3) == k.size(3) && (padding == 0 || k.size(2) >= 1),
              "cross-attention takes q [B, H, N, d] and k, v [B, H, Lc, d] (a padding row when padded), got ",
              q.sizes(), ", ", k.sizes(), ", ", v.sizes());
  TORCH_CHECK(padding >= 0, "cross-attention: negative padding ", padding);
  const int64_t batch = q.size(0), heads = q.size(1), tokens = q.size(2), head_dim = q.size(3);
  const auto merged = [&](const at::Tensor& o) { return o.transpose(1, 2).reshape({batch, tokens, heads * head_dim}); };
  if (padding == 0) return merged(at::scaled_dot_product_attention(q, k, v));
  const int64_t real = k.size(2) - 1;
  const bool autograd = at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  if (autograd || (q.is_cuda() && k.size(2) > short_context_attention_max_keys())) {
    // Upstream's context: the padding row `padding` times (an expanded view until SDPA reads it).
    const auto spelled_out = [&](const at::Tensor& x) {
      return at::cat({x, x.narrow(2, real, 1).expand({batch, heads, padding - 1, head_dim})}, 2);
    };
    return merged(at::scaled_dot_product_attention(q, spelled_out(k), spelled_out(v)));
  }
  std::vector<float> log_weights(size_t(real), 0.0f);
  log_weights.push_back(float(std::log(double(padding))));
  // Tokens first: the op writes each head's rows in place there, and the heads merge as a view.
  at::Tensor out = at::empty({batch, tokens, heads, head_dim}, q.options());
  at::Tensor heads_view = out.transpose(1, 2);  // [B, H, N, d]
  short_context_attention_out(heads_view, q, k, v, log_weights, 1.0 / std::sqrt(double(head_dim)));
  return out.view({batch, tokens, heads * head_dim});
}

}  // namespace svgear
