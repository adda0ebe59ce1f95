#include "core/model/wan_dit.h"

#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "core/model/text_context.h"
#include "core/model/time_embedding.h"
#include "core/model/wan_block.h"
#include "core/model/wan_layers.h"

namespace svgear {

WanDiT::WanDiT(WanConfig config, WanWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)) {
  TORCH_CHECK(int(weights_.blocks.size()) == config_.num_layers, "WanDiT: weights have ",
              weights_.blocks.size(), " blocks, config says ", config_.num_layers);
  TORCH_CHECK(config_.num_layers >= 1, "WanDiT: needs at least one block");
}

void WanDiT::to(at::Device device, at::ScalarType dtype) { weights_.to(device, dtype); }

at::Tensor WanDiT::forward(const at::Tensor& x, const at::Tensor& t, const at::Tensor& context,
                           const DiTForward& call) const {
  return forward_from(forward_prefix(x, t, call), context, call);
}

DiTPrefix WanDiT::forward_prefix(const at::Tensor& x, const at::Tensor& t, const DiTForward& call) const {
  const WanConfig& c = config_;
  const WanWeights& w = weights_;
  const auto [pt, ph, pw] = c.patch_size;
  TORCH_CHECK(call.attention, "WanDiT::forward needs an attention backend");
  TORCH_CHECK(x.dim() == 5 && x.size(1) == c.in_dim, "x must be [B, ", c.in_dim,
              ", F, H, W], got ", x.sizes());
  TORCH_CHECK(x.size(2) % pt == 0 && x.size(3) % ph == 0 && x.size(4) % pw == 0,
              "x's frames, height and width must be multiples of the patch (", pt, ", ", ph, ", ",
              pw, "), got ", x.sizes());
  const int64_t batch = x.size(0);
  TORCH_CHECK(t.dim() == 1 && t.size(0) == batch, "t must be [", batch, "], got ", t.sizes());
  const at::ScalarType compute = w.patch_embedding_weight.scalar_type();
  const at::Device device = w.patch_embedding_weight.device();

  // patch embedding
  at::Tensor h = at::conv3d(x.to(device, compute), w.patch_embedding_weight,
                            w.patch_embedding_bias, {pt, ph, pw});   // [B, dim, F', H', W']
  const TokenGrid grid{int(h.size(2)), int(h.size(3)), int(h.size(4))};
  // Contiguous: every block's residual adds and LayerNorms keep this layout, and a transposed one
  // made each LayerNorm copy the stream first and each residual add read it strided.
  h = h.flatten(2).transpose(1, 2).to(at::kFloat, /*non_blocking=*/false, /*copy=*/false,
                                       at::MemoryFormat::Contiguous);  // [B, N, dim]

  // time embedding (float32, as upstream's autocast(float32) region)
  at::Tensor e = sinusoidal_embedding(t.to(device), c.freq_dim);    // [B, freq_dim]
  e = wan_linear(e, w.time_embedding_0_weight, w.time_embedding_0_bias);   // [B, dim]
  e = wan_linear(at::silu(e), w.time_embedding_2_weight, w.time_embedding_2_bias);  // [B, dim]
  at::Tensor time_modulation =
      wan_linear(at::silu(e), w.time_projection_1_weight, w.time_projection_1_bias)  // [B, 6·dim]
          .unflatten(1, {6, c.dim});                                // [B, 6, dim]

  if (call.cancel) call.cancel->throw_if_cancelled();
  const RopeTable rope = rope_->get(c.head_dim(), grid, device);
  ResidualStream stream =
      WanBlock(c, w.blocks[0], 0).self_attention({h, {}, {}}, time_modulation, rope, grid, call);
  return {std::move(stream), std::move(e), std::move(time_modulation), grid};
}

at::Tensor WanDiT::forward_from(DiTPrefix prefix, const at::Tensor& context, const DiTForward& call) const {
  const WanConfig& c = config_;
  const WanWeights& w = weights_;
  const auto [pt, ph, pw] = c.patch_size;
  const int64_t batch = prefix.stream.x.size(0);
  TORCH_CHECK(context.dim() == 3 && context.size(0) == batch && context.size(2) == c.text_dim &&
                  context.size(1) <= c.text_len,
              "context must be [", batch, ", L <= ", c.text_len, ", ", c.text_dim, "], got ",
              context.sizes());
  const at::Device device = w.patch_embedding_weight.device();
  const TokenGrid& grid = prefix.grid;

  // text embedding. Upstream zero-pads the context to text_len and embeds every row; the padding
  // rows come out identical, so one zero row is embedded and counted text_len − L times (TextContext).
  const int64_t padding = c.text_len - context.size(1);
  at::Tensor text = context.to(device);
  if (padding > 0) text = at::constant_pad_nd(text, {0, 0, 0, 1});  // [B, Lc, text_dim]
  text = wan_linear(text, w.text_embedding_0_weight, w.text_embedding_0_bias);
  text = wan_linear(at::gelu(text, "tanh"), w.text_embedding_2_weight, w.text_embedding_2_bias);  // [B, Lc, dim]
  const TextContext text_context{std::move(text), padding};

  if (call.cancel) call.cancel->throw_if_cancelled();
  ResidualStream stream = WanBlock(c, w.blocks[0], 0).cross_attention_and_ffn(prefix.stream, prefix.time_modulation,
                                                                              text_context);
  prefix.stream = {};  // this copy's hold on it: a moved-in prefix frees here
  const RopeTable rope = rope_->get(c.head_dim(), grid, device);
  for (int layer = 1; layer < c.num_layers; ++layer) {
    if (call.cancel) call.cancel->throw_if_cancelled();
    stream = WanBlock(c, w.blocks[layer], layer)
                 .forward(stream, prefix.time_modulation, text_context, rope, grid, call);
  }

  // head, after the last block's FFN residual, with its norm in the same pass
  // [shift, scale], each [B, 1, dim]
  std::vector<at::Tensor> head_mod = (w.head_modulation + prefix.time_embedding.unsqueeze(1)).chunk(2, 1);
  const at::ScalarType head_dtype = w.head_head_weight.scalar_type();
  at::Tensor h =
      stream.branch.defined()
          ? wan_add_norm_modulate(stream.x, stream.branch, stream.gate, head_mod[0], head_mod[1], c.eps, head_dtype)
                .normed
          : wan_norm_modulate(stream.x, head_mod[0], head_mod[1], c.eps, head_dtype);  // [B, N, dim]
  h = wan_linear(h, w.head_head_weight, w.head_head_bias);          // [B, N, out_dim·pt·ph·pw]

  // unpatchify: (f, h, w, p, q, r, c) → (c, f·p, h·q, w·r)
  h = h.view({batch, grid.frames, grid.height, grid.width, pt, ph, pw, c.out_dim});
  h = h.permute({0, 7, 1, 4, 2, 5, 3, 6});           // [B, out_dim, F', pt, H', ph, W', pw]
  return h.reshape({batch, c.out_dim, int64_t(grid.frames) * pt, int64_t(grid.height) * ph,
                    int64_t(grid.width) * pw})                      // [B, out_dim, F, H, W]
      .to(at::kFloat);
}

}  // namespace svgear
