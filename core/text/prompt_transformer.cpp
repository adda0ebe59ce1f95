#include "core/text/prompt_transformer.h"

#include <cmath>
#include <optional>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/user_error.h"

namespace svgear {

void PromptTransformerWeights::for_each(const std::function<void(const std::string&, at::Tensor&)>& visit) {
  if (empty()) return;
  visit("text_encoder.position_embedding.weight", position);
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string p = "text_encoder.blocks." + std::to_string(i) + ".";
    PromptTransformerLayer& l = layers[i];
    visit(p + "norm1.weight", l.norm1_weight);
    visit(p + "norm1.bias", l.norm1_bias);
    visit(p + "attn.qkv.weight", l.qkv_weight);
    visit(p + "attn.qkv.bias", l.qkv_bias);
    visit(p + "attn.out.weight", l.out_weight);
    visit(p + "attn.out.bias", l.out_bias);
    visit(p + "norm2.weight", l.norm2_weight);
    visit(p + "norm2.bias", l.norm2_bias);
    visit(p + "ffn.0.weight", l.ffn1_weight);
    visit(p + "ffn.0.bias", l.ffn1_bias);
    visit(p + "ffn.2.weight", l.ffn2_weight);
    visit(p + "ffn.2.bias", l.ffn2_bias);
  }
}

PromptTransformerWeights new_prompt_transformer(int layers, int heads, int dim, int max_tokens, uint64_t seed,
                                                double position_std) {
  PromptTransformerWeights w;
  if (layers <= 0) return w;
  if (heads <= 0 || dim % heads != 0) {
    throw UserError("the text transformer's width " + std::to_string(dim) + " must be a multiple of its " +
                    std::to_string(heads) + " heads");
  }
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const double std = 1.0 / std::sqrt(double(dim));
  const auto normal = [&](int64_t rows, int64_t cols) { return at::randn({rows, cols}, gen, at::kFloat) * std; };
  const auto zeros = [](at::IntArrayRef sizes) { return at::zeros(sizes, at::kFloat); };
  w.heads = heads;
  w.position = position_std > 0.0 ? at::randn({max_tokens, dim}, gen, at::kFloat) * position_std
                                  : zeros({max_tokens, dim});
  for (int i = 0; i < layers; ++i) {
    PromptTransformerLayer l;
    l.norm1_weight = at::ones({dim}, at::kFloat);
    l.norm1_bias = zeros({dim});
    l.qkv_weight = normal(3 * dim, dim);
    l.qkv_bias = zeros({3 * dim});
    l.out_weight = zeros({dim, dim});
    l.out_bias = zeros({dim});
    l.norm2_weight = at::ones({dim}, at::kFloat);
    l.norm2_bias = zeros({dim});
    l.ffn1_weight = normal(4 * dim, dim);
    l.ffn1_bias = zeros({4 * dim});
    l.ffn2_weight = zeros({dim, 4 * dim});
    l.ffn2_bias = zeros({dim});
    w.layers.push_back(std::move(l));
  }
  return w;
}

at::Tensor prompt_transformer_forward(const PromptTransformerWeights& w, const at::Tensor& tokens,
                                      const at::Tensor& valid) {
  if (w.empty()) return tokens;
  const int64_t batch = tokens.size(0), length = tokens.size(1), dim = tokens.size(2);
  TORCH_CHECK(length <= w.position.size(0), "a prompt of ", length, " tokens exceeds the text transformer's ",
              w.position.size(0), " positions");
  const int64_t head_dim = dim / w.heads;
  at::Tensor x = tokens + w.position.slice(0, 0, length).unsqueeze(0);
  // [B, 1, 1, L]: every query attends to its prompt's words, never to padding.
  std::optional<at::Tensor> mask;
  if (valid.defined()) mask = valid.view({batch, 1, 1, length});
  for (const PromptTransformerLayer& l : w.layers) {
    const at::Tensor h = at::layer_norm(x, {dim}, l.norm1_weight, l.norm1_bias, 1e-5);
    const at::Tensor qkv = at::linear(h, l.qkv_weight, l.qkv_bias).view({batch, length, 3, w.heads, head_dim})
                               .permute({2, 0, 3, 1, 4});  // [3, B, heads, L, head_dim]
    const at::Tensor attended = at::scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], mask)
                                    .transpose(1, 2)
                                    .reshape({batch, length, dim});
    x = x + at::linear(attended, l.out_weight, l.out_bias);
    const at::Tensor h2 = at::layer_norm(x, {dim}, l.norm2_weight, l.norm2_bias, 1e-5);
    x = x + at::linear(at::gelu(at::linear(h2, l.ffn1_weight, l.ffn1_bias)), l.ffn2_weight, l.ffn2_bias);
  }
  return x;
}

}  // namespace svgear
