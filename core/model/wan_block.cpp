#include "core/model/wan_block.h"

#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "core/model/wan_layers.h"
#include "kernels/rms_norm_rope/rms_norm_rope.h"

namespace svgear {

WanBlock::WanBlock(const WanConfig& config, const WanBlockWeights& weights, int layer)
    : config_(config), weights_(weights), layer_(layer) {}

namespace {

// [shift_msa, scale_msa, gate_msa, shift_ffn, scale_ffn, gate_ffn], each [B, 1, dim] float32.
std::vector<at::Tensor> block_modulation(const WanBlockWeights& w, const at::Tensor& time_modulation) {
  return (w.modulation + time_modulation).chunk(6, 1);
}

}  // namespace

ResidualStream WanBlock::forward(const ResidualStream& stream, const at::Tensor& time_modulation,
                                 const TextContext& context, const RopeTable& rope,
                                 const TokenGrid& grid, const DiTForward& call) const {
  ResidualStream attended = self_attention(stream, time_modulation, rope, grid, call);
  // Between the halves too: on a CPU, one half of a Wan-1.3B block at 480p takes seconds.
  if (call.cancel) call.cancel->throw_if_cancelled();
  return cross_attention_and_ffn(attended, time_modulation, context);
}

ResidualStream WanBlock::self_attention(const ResidualStream& stream, const at::Tensor& time_modulation,
                                        const RopeTable& rope, const TokenGrid& grid, const DiTForward& call) const {
  const WanBlockWeights& w = weights_;
  const int64_t batch = stream.x.size(0);
  const int64_t tokens = stream.x.size(1);
  const int64_t heads = config_.num_heads;
  const int64_t head_dim = config_.head_dim();
  const double eps = config_.eps;
  std::vector<at::Tensor> mod = block_modulation(w, time_modulation);

  // self-attention, after the previous block's FFN residual (float32), with its norm in the same pass
  // In the projections' dtype once, not once per projection (wan_linear's cast is then a no-op).
  at::Tensor x, h;  // [B, N, dim]
  if (stream.branch.defined()) {
    ResidualNormed r = wan_add_norm_modulate(stream.x, stream.branch, stream.gate, mod[0], mod[1], eps,
                                             w.compute_dtype());
    x = std::move(r.sum);
    h = std::move(r.normed);
  } else {
    x = stream.x;
    h = wan_norm_modulate(x, mod[0], mod[1], eps, w.compute_dtype());
  }
  at::Tensor v = wan_linear(h, w.self_attn_v_weight, w.self_attn_v_bias, w.self_attn_v_scale)
                     .view({batch, tokens, heads, head_dim});                     // [B, N, H, d]
  // q and k: RMSNorm and RoPE in float32, then in v's dtype (the weights', or bf16 under the
  // trainer's autocast, where the linears give bf16 and the weights stay float32), heads first.
  const at::ScalarType compute = v.scalar_type();
  at::Tensor q = rms_norm_rope(wan_linear(h, w.self_attn_q_weight, w.self_attn_q_bias, w.self_attn_q_scale),
                               w.self_attn_norm_q_weight, rope.rotation, heads, eps, compute);  // [B, H, N, d]
  at::Tensor k = rms_norm_rope(wan_linear(h, w.self_attn_k_weight, w.self_attn_k_bias, w.self_attn_k_scale),
                               w.self_attn_norm_k_weight, rope.rotation, heads, eps, compute);  // [B, H, N, d]
  const std::string tap_prefix =
      call.taps ? "blocks." + std::to_string(layer_) + ".self_attn." : std::string();
  if (call.taps) {  // [B, N, H, d] float32, as upstream's rope_apply leaves them
    tap(call.taps, tap_prefix + "q", q.transpose(1, 2).to(at::kFloat));
    tap(call.taps, tap_prefix + "k", k.transpose(1, 2).to(at::kFloat));
    tap(call.taps, tap_prefix + "v", v);
  }
  AttentionCall attention_call;
  attention_call.layer = layer_;
  attention_call.num_layers = config_.num_layers;
  attention_call.step = call.step;
  attention_call.num_steps = call.num_steps;
  attention_call.branch = call.branch;
  attention_call.grid = grid;
  attention_call.cancel = call.cancel;
  at::Tensor o = call.attention->forward(q, k, v.transpose(1, 2), attention_call);  // [B, H, N, d]
  o = o.transpose(1, 2).reshape({batch, tokens, heads * head_dim});               // [B, N, dim]
  if (call.taps) tap(call.taps, tap_prefix + "out", o);
  at::Tensor y = wan_linear(o, w.self_attn_o_weight, w.self_attn_o_bias, w.self_attn_o_scale);  // [B, N, dim]
  return {std::move(x), std::move(y), mod[2]};
}

ResidualStream WanBlock::cross_attention_and_ffn(const ResidualStream& stream, const at::Tensor& time_modulation,
                                                 const TextContext& context) const {
  const WanBlockWeights& w = weights_;
  const int64_t batch = stream.x.size(0);
  const int64_t heads = config_.num_heads;
  const int64_t head_dim = config_.head_dim();
  const double eps = config_.eps;
  std::vector<at::Tensor> mod = block_modulation(w, time_modulation);

  // cross-attention, after the residual x + y · gate (float32), with its norm in the same pass
  at::Tensor x, h;  // [B, N, dim]
  if (w.norm3_weight.defined()) {
    ResidualNormed r = wan_add_layer_norm(stream.x, stream.branch, stream.gate, w.norm3_weight, w.norm3_bias, eps,
                                          w.compute_dtype());
    x = std::move(r.sum);
    h = std::move(r.normed);
  } else {
    x = at::addcmul(stream.x, stream.branch, stream.gate);
    h = x;
  }
  const int64_t context_len = context.rows.size(1);
  at::Tensor v = wan_linear(context.rows, w.cross_attn_v_weight, w.cross_attn_v_bias, w.cross_attn_v_scale)
                     .view({batch, context_len, heads, head_dim})
                     .transpose(1, 2);                                            // [B, H, Lc, d]
  // The queries' and keys' RMSNorm and cast as one op each (no rotation across attention), stored
  // tokens first: the cross-attention reads them there and writes its output tokens first too.
  at::Tensor q = rms_norm_rope(wan_linear(h, w.cross_attn_q_weight, w.cross_attn_q_bias, w.cross_attn_q_scale),
                               w.cross_attn_norm_q_weight, at::Tensor(), heads, eps, v.scalar_type(),
                               RmsNormRopeLayout::TokensFirst);                   // [B, H, N, d]
  at::Tensor k = rms_norm_rope(                                                  // [B, H, Lc, d]
      wan_linear(context.rows, w.cross_attn_k_weight, w.cross_attn_k_bias, w.cross_attn_k_scale),
      w.cross_attn_norm_k_weight, at::Tensor(), heads, eps, v.scalar_type(), RmsNormRopeLayout::TokensFirst);
  at::Tensor o = text_cross_attention(q, k, v, context.padding);                  // [B, N, dim]
  at::Tensor y = wan_linear(o, w.cross_attn_o_weight, w.cross_attn_o_bias, w.cross_attn_o_scale);  // [B, N, dim]

  // ffn, after the residual x + y (float32), with its norm in the same pass
  ResidualNormed r = wan_add_norm_modulate(x, y, at::Tensor(), mod[3], mod[4], eps, w.compute_dtype());
  x = std::move(r.sum);
  h = std::move(r.normed);                                                        // [B, N, dim]
  h = wan_linear_gelu(h, w.ffn_0_weight, w.ffn_0_bias, w.ffn_0_scale);            // [B, N, ffn_dim]
  y = wan_linear(h, w.ffn_2_weight, w.ffn_2_bias, w.ffn_2_scale);                 // [B, N, dim]
  return {std::move(x), std::move(y), mod[5]};
}

}  // namespace svgear
