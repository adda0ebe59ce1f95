#pragma once
// WanBlock: one Wan 2.1 transformer block (upstream WanAttentionBlock, t2v):
//   x += g1 · SelfAttn(LN(x)·(1+s1)+b1);  x += CrossAttn(LN_affine(x), context);
//   x += g2 · FFN(LN(x)·(1+s2)+b2)
// with the six (shift, scale, gate) vectors = learned modulation + time projection. Self-attention
// goes through the AttentionBackend of the call; cross-attention is dense, over the text's rows with
// upstream's padding as one counted key (text_context.h).
//
// Every residual add is left to the LayerNorm after it, which adds and normalises in one pass over
// the stream (residual_layer_norm_affine): the two inside the block, and the FFN's, which the block
// returns pending for the next block's first norm or the head's.

#include <ATen/core/Tensor.h>

#include "core/attention/attention_backend.h"
#include "core/model/dit_forward.h"
#include "core/model/rope.h"
#include "core/model/text_context.h"
#include "core/model/wan_config.h"
#include "core/model/wan_weights.h"

namespace svgear {

// The float32 residual stream between blocks: x + branch · gate, with the last block's FFN branch
// (inside a block: the self-attention's) not yet added.
struct ResidualStream {
  at::Tensor x;       // [B, N, dim] float32
  at::Tensor branch;  // [B, N, dim] in the FFN's dtype, or undefined (the stream is x)
  at::Tensor gate;    // [B, 1, dim] float32, with branch
};

class WanBlock {
 public:
  // A view: config and weights must outlive the block.
  WanBlock(const WanConfig& config, const WanBlockWeights& weights, int layer);

  // stream: the residual stream; time_modulation: [B, 6, dim] float32 (upstream e0); context: the
  // embedded text with its padding folded (text_context.h); rope: the table of `grid`. Returns the
  // stream after the block, its FFN branch pending. The same as cross_attention_and_ffn after
  // self_attention.
  ResidualStream forward(const ResidualStream& stream, const at::Tensor& time_modulation,
                         const TextContext& context, const RopeTable& rope, const TokenGrid& grid,
                         const DiTForward& call) const;

  // The block's first half, which reads no text: the stream after self-attention, its gated branch
  // pending. The second half takes it on from the cross-attention.
  ResidualStream self_attention(const ResidualStream& stream, const at::Tensor& time_modulation,
                                const RopeTable& rope, const TokenGrid& grid, const DiTForward& call) const;
  ResidualStream cross_attention_and_ffn(const ResidualStream& stream, const at::Tensor& time_modulation,
                                         const TextContext& context) const;

 private:
  const WanConfig& config_;
  const WanBlockWeights& weights_;
  int layer_ = 0;
};

}  // namespace svgear
