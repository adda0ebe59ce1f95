#pragma once
// PromptTransformer: the small transformer of the closed-vocabulary text encoder (the built-in
// shapes models). A token table alone hands the DiT a bag of words: its cross-attention has no
// positions on the text side, so "a red square over a blue background" and "a blue square over a
// red background" reach it alike, and in a scene of several objects no word says which object it
// belongs to (the shipped step-12,404 shapes-s painted exactly that swap; docs/training.md). Learned
// positions and a few pre-norm self-attention layers give each word its place and its neighbours.
//
//   x = token_embedding[ids] + position[0, L)
//   per layer:  x += out(attention(LN1(x)))       (heads over the prompt's real words only)
//               x += ffn2(gelu(ffn1(LN2(x))))     (ffn width 4 × dim)
//
// Both residual branches' output projections start at zero, so a new encoder is its token table
// plus the positions. Those start at a scale the DiT cannot ignore (std kPositionStd, against token
// rows of about 1): started at zero, as a first version did, a model continued from one trained
// without them left them small (rms 0.04 after 3,100 steps on the H200) and still painted the
// swapped colours (docs/training.md).
//
// Weights (under the text encoder's prefix, beside text_encoder.token_embedding.weight):
//   text_encoder.position_embedding.weight         [max_tokens, dim]
//   text_encoder.blocks.N.norm1.{weight,bias}       [dim]
//   text_encoder.blocks.N.attn.qkv.{weight,bias}    [3·dim, dim], [3·dim]
//   text_encoder.blocks.N.attn.out.{weight,bias}    [dim, dim], [dim]
//   text_encoder.blocks.N.norm2.{weight,bias}       [dim]
//   text_encoder.blocks.N.ffn.0.{weight,bias}       [4·dim, dim], [4·dim]
//   text_encoder.blocks.N.ffn.2.{weight,bias}       [dim, 4·dim], [dim]

#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace svgear {

struct PromptTransformerLayer {
  at::Tensor norm1_weight, norm1_bias;
  at::Tensor qkv_weight, qkv_bias;
  at::Tensor out_weight, out_bias;
  at::Tensor norm2_weight, norm2_bias;
  at::Tensor ffn1_weight, ffn1_bias;
  at::Tensor ffn2_weight, ffn2_bias;
};

struct PromptTransformerWeights {
  int heads = 0;
  at::Tensor position;  // [max_tokens, dim]; undefined: no transformer (the token table alone)
  std::vector<PromptTransformerLayer> layers;

  bool empty() const { return layers.empty(); }
  // Every tensor with its full name (the list above), in a fixed order.
  void for_each(const std::function<void(const std::string& name, at::Tensor& tensor)>& visit);
};

inline constexpr double kPositionStd = 0.5;

// float32 CPU tensors of the right shapes: output projections and biases zero, norms' weights one,
// positions normal with std `position_std` (0: zeros, drawing nothing, as the first transformers
// trained, 4a25c4b, started), the rest (qkv, ffn.0) normal with std 1/√dim, all drawn from `seed`.
// layers = 0 gives an empty transformer. Throws UserError unless heads divide dim.
PromptTransformerWeights new_prompt_transformer(int layers, int heads, int dim, int max_tokens, uint64_t seed,
                                                double position_std = kPositionStd);

// tokens: [B, L, dim] token embeddings; valid: [B, L] bool, true for a prompt's words (padding
// false; every row needs one true), or undefined when no row is padded. Returns [B, L, dim]; padded
// positions' outputs are not meant to be read (the caller zeroes them). Differentiable. L may not
// exceed the position table.
at::Tensor prompt_transformer_forward(const PromptTransformerWeights& weights, const at::Tensor& tokens,
                                      const at::Tensor& valid);

}  // namespace svgear
