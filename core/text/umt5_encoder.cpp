#include "core/text/umt5_encoder.h"

#include <cmath>
#include <limits>
#include <utility>

#include <ATen/ATen.h>

namespace svgear {
namespace {

// Upstream T5LayerNorm: RMS over the last dim in float32, cast back to a half-precision gain's
// dtype, times the gain (no mean, no bias).
at::Tensor t5_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor normed = x * at::rsqrt(x.to(at::kFloat).pow(2).mean(-1, /*keepdim=*/true) + eps);
  if (weight.scalar_type() != at::kFloat) normed = normed.to(weight.scalar_type());
  return weight * normed;
}

// Upstream fp16_clamp: keeps float16 activations finite (the xxl encoder overflows otherwise).
at::Tensor fp16_clamp(at::Tensor x) {
  if (x.scalar_type() == at::kHalf && at::isinf(x).any().item<bool>()) {
    constexpr double kClamp = 65504.0 - 1000.0;  // torch.finfo(float16).max - 1000
    x = at::clamp(x, -kClamp, kClamp);
  }
  return x;
}

// torch.finfo(dtype).min, the value upstream writes into masked attention logits.
double lowest_value(at::ScalarType dtype) {
  switch (dtype) {
    case at::kHalf: return -65504.0;
    case at::kBFloat16: return -3.3895313892515355e38;
    default: return std::numeric_limits<float>::lowest();
  }
}

// x: [B, L, dim] (normed); bias: [B, heads, L, L], position bias with masked keys at lowest.
at::Tensor self_attention(const at::Tensor& x, const Umt5LayerWeights& w, const Umt5Config& c,
                          const at::Tensor& bias) {
  const int64_t batch = x.size(0);
  const int64_t length = x.size(1);
  auto heads = [&](const at::Tensor& weight) {  // [B, L, dim] → [B, heads, L, head_dim]
    return at::linear(x, weight).view({batch, length, c.num_heads, c.head_dim()}).transpose(1, 2);
  };
  at::Tensor q = heads(w.attn_q_weight);
  at::Tensor k = heads(w.attn_k_weight);
  at::Tensor v = heads(w.attn_v_weight);
  // T5 folds the 1/sqrt(head_dim) scale into its weights: the logits are plain dot products.
  at::Tensor logits = at::matmul(q, k.transpose(-1, -2)) + bias;  // [B, heads, L, L]
  at::Tensor attn = at::softmax(logits.to(at::kFloat), -1).to(logits.scalar_type());
  at::Tensor out = at::matmul(attn, v);  // [B, heads, L, hd]
  out = out.transpose(1, 2).reshape({batch, length, int64_t(c.dim_attn)});  // [B, L, dim_attn]
  return at::linear(out, w.attn_o_weight);  // [B, L, dim]
}

// x: [B, L, dim] (normed) → [B, L, dim]; fc1(x) · gelu_tanh(gate(x)), then fc2.
at::Tensor gated_ffn(const at::Tensor& x, const Umt5LayerWeights& w) {
  at::Tensor hidden = at::linear(x, w.ffn_fc1_weight) *
                      at::gelu(at::linear(x, w.ffn_gate_0_weight), "tanh");  // [B, L, dim_ffn]
  return at::linear(hidden, w.ffn_fc2_weight);
}

}  // namespace

at::Tensor umt5_position_buckets(int64_t length, int num_buckets, int max_distance,
                                 at::Device device) {
  at::Tensor position = at::arange(length, at::TensorOptions().dtype(at::kLong).device(device));
  at::Tensor relative = position.unsqueeze(0) - position.unsqueeze(1);  // [Lq, Lk]: key - query
  const int64_t half = num_buckets / 2;
  at::Tensor buckets = (relative > 0).to(at::kLong) * half;
  relative = relative.abs();
  const int64_t max_exact = half / 2;
  // float32 log as upstream, so every bucket boundary falls where it does there.
  at::Tensor large =
      max_exact + (at::log(relative.to(at::kFloat) / double(max_exact)) /
                   std::log(double(max_distance) / double(max_exact)) * double(half - max_exact))
                      .to(at::kLong);
  large = at::clamp_max(large, half - 1);
  return buckets + at::where(relative < max_exact, relative, large);
}

Umt5Encoder::Umt5Encoder(Umt5Weights weights) : weights_(std::move(weights)) {
  TORCH_CHECK(int(weights_.blocks.size()) == weights_.config.num_layers,
              "Umt5Encoder: ", weights_.blocks.size(), " blocks, config says ",
              weights_.config.num_layers);
}

at::Device Umt5Encoder::device() const { return weights_.norm_weight.device(); }

at::ScalarType Umt5Encoder::dtype() const { return weights_.norm_weight.scalar_type(); }

at::Tensor Umt5Encoder::forward(const at::Tensor& ids, const at::Tensor& mask) const {
  const Umt5Config& c = weights_.config;
  TORCH_CHECK(ids.dim() == 2, "ids must be [B, L], got ", ids.sizes());
  TORCH_CHECK(mask.sizes() == ids.sizes(), "mask must be ", ids.sizes(), " like ids, got ",
              mask.sizes());
  TORCH_CHECK(
      ids.numel() == 0 || (ids.min().item<int64_t>() >= 0 && ids.max().item<int64_t>() < c.vocab),
      "token ids must be in [0, ", c.vocab, ")");
  const int64_t batch = ids.size(0);
  const int64_t length = ids.size(1);

  at::Tensor x = at::embedding(weights_.token_embedding_weight, ids.to(device(), at::kLong));
  const at::Tensor buckets = umt5_position_buckets(length, c.num_buckets, c.max_distance, device());
  const at::Tensor padding = (mask.to(device()) == 0).view({batch, 1, 1, length});  // masked keys
  for (const Umt5LayerWeights& w : weights_.blocks) {
    // this layer's relative position bias: [L, L, heads] → [1, heads, L, L]
    at::Tensor position_bias = at::embedding(w.pos_embedding_weight, buckets).permute({2, 0, 1});
    at::Tensor bias = position_bias.unsqueeze(0)
                          .expand({batch, c.num_heads, length, length})
                          .masked_fill(padding, lowest_value(dtype()));
    x = fp16_clamp(x + self_attention(t5_norm(x, w.norm1_weight, c.eps), w, c, bias));
    x = fp16_clamp(x + gated_ffn(t5_norm(x, w.norm2_weight, c.eps), w));
  }
  return t5_norm(x, weights_.norm_weight, c.eps);  // [B, L, dim]
}

}  // namespace svgear
