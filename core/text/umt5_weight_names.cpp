#include "core/text/umt5_weight_names.h"

#include <array>
#include <utility>

namespace svgear {
namespace {

using NamePair = std::pair<std::string_view, std::string_view>;  // {hugging face, original}

constexpr std::string_view kHfBlocks = "encoder.block.";
constexpr std::string_view kBlocks = "blocks.";

// Names inside a block, as prefixes ending where the parameter name ("weight") begins.
constexpr std::array<NamePair, 10> kInBlock = {{
    {"layer.0.layer_norm.", "norm1."},
    {"layer.0.SelfAttention.q.", "attn.q."},
    {"layer.0.SelfAttention.k.", "attn.k."},
    {"layer.0.SelfAttention.v.", "attn.v."},
    {"layer.0.SelfAttention.o.", "attn.o."},
    {"layer.0.SelfAttention.relative_attention_bias.", "pos_embedding.embedding."},
    {"layer.1.layer_norm.", "norm2."},
    {"layer.1.DenseReluDense.wi_0.", "ffn.gate.0."},
    {"layer.1.DenseReluDense.wi_1.", "ffn.fc1."},
    {"layer.1.DenseReluDense.wo.", "ffn.fc2."},
}};

// Length of "<blocks>{i}." at the start of `name` for the given blocks prefix, or 0.
size_t block_prefix_length(std::string_view name, std::string_view blocks) {
  if (!name.starts_with(blocks)) return 0;
  size_t end = blocks.size();
  while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
  if (end == blocks.size() || end >= name.size() || name[end] != '.') return 0;
  return end + 1;
}

}  // namespace

bool umt5_is_hf_name(std::string_view name) {
  return name.starts_with("encoder.") || name.starts_with("shared.");
}

std::string umt5_original_name(std::string_view name) {
  // ComfyUI files carry the embedding as shared.weight, Diffusers shards may add the tied copy.
  if (name.starts_with("shared.")) return "token_embedding." + std::string(name.substr(7));
  if (name.starts_with("encoder.embed_tokens.")) {
    return "token_embedding." + std::string(name.substr(21));
  }
  if (name.starts_with("encoder.final_layer_norm.")) return "norm." + std::string(name.substr(25));
  const size_t block = block_prefix_length(name, kHfBlocks);
  if (block == 0) return "";
  const std::string index(name.substr(kHfBlocks.size(), block - kHfBlocks.size()));  // "3."
  const std::string_view rest = name.substr(block);
  for (const auto& [hf, original] : kInBlock) {
    if (rest.starts_with(hf)) {
      return std::string(kBlocks) + index + std::string(original) +
             std::string(rest.substr(hf.size()));
    }
  }
  return "";
}

std::string umt5_hf_name(std::string_view name) {
  if (name.starts_with("token_embedding.")) return "shared." + std::string(name.substr(16));
  if (name.starts_with("norm.")) return "encoder.final_layer_norm." + std::string(name.substr(5));
  const size_t block = block_prefix_length(name, kBlocks);
  if (block == 0) return std::string(name);
  const std::string index(name.substr(kBlocks.size(), block - kBlocks.size()));
  const std::string_view rest = name.substr(block);
  for (const auto& [hf, original] : kInBlock) {
    if (rest.starts_with(original)) {
      return std::string(kHfBlocks) + index + std::string(hf) +
             std::string(rest.substr(original.size()));
    }
  }
  return std::string(name);
}

}  // namespace svgear
