#include "core/model/wan_weight_names.h"

#include <array>
#include <utility>

namespace svgear {
namespace {

using NamePair = std::pair<std::string_view, std::string_view>;  // {diffusers, original}

enum class Direction { Unset, ToOriginal, ToDiffusers };

// Names outside the blocks, as prefixes ending where the parameter name begins.
constexpr std::array<NamePair, 7> kTopLevel = {{
    {"condition_embedder.time_embedder.linear_1.", "time_embedding.0."},
    {"condition_embedder.time_embedder.linear_2.", "time_embedding.2."},
    {"condition_embedder.text_embedder.linear_1.", "text_embedding.0."},
    {"condition_embedder.text_embedder.linear_2.", "text_embedding.2."},
    {"condition_embedder.time_proj.", "time_projection.1."},
    {"proj_out.", "head.head."},
    {"scale_shift_table", "head.modulation"},
}};

// Names inside `blocks.{i}.`. Diffusers numbers the norms in call order (norm1, cross-attention
// norm, FFN norm), upstream calls the cross-attention norm norm3: they swap.
constexpr std::array<NamePair, 17> kInBlock = {{
    {"attn1.to_q.", "self_attn.q."},
    {"attn1.to_k.", "self_attn.k."},
    {"attn1.to_v.", "self_attn.v."},
    {"attn1.to_out.0.", "self_attn.o."},
    {"attn1.norm_q.", "self_attn.norm_q."},
    {"attn1.norm_k.", "self_attn.norm_k."},
    {"attn2.to_q.", "cross_attn.q."},
    {"attn2.to_k.", "cross_attn.k."},
    {"attn2.to_v.", "cross_attn.v."},
    {"attn2.to_out.0.", "cross_attn.o."},
    {"attn2.norm_q.", "cross_attn.norm_q."},
    {"attn2.norm_k.", "cross_attn.norm_k."},
    {"ffn.net.0.proj.", "ffn.0."},
    {"ffn.net.2.", "ffn.2."},
    {"norm2.", "norm3."},
    {"norm3.", "norm2."},
    {"scale_shift_table", "modulation"},
}};

// Length of "blocks.{i}." at the start of `name`, or 0.
size_t block_prefix_length(std::string_view name) {
  constexpr std::string_view kBlocks = "blocks.";
  if (!name.starts_with(kBlocks)) return 0;
  size_t end = kBlocks.size();
  while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
  if (end == kBlocks.size() || end >= name.size() || name[end] != '.') return 0;
  return end + 1;
}

// Replaces the first table prefix (the `from` side) that `name` starts with; unchanged otherwise.
template <size_t N>
std::string rename(std::string_view name, const std::array<NamePair, N>& table,
                   Direction direction) {
  for (const auto& [diffusers, original] : table) {
    std::string_view from = direction == Direction::ToOriginal ? diffusers : original;
    std::string_view to = direction == Direction::ToOriginal ? original : diffusers;
    if (name.starts_with(from)) return std::string(to) + std::string(name.substr(from.size()));
  }
  return std::string(name);
}

std::string convert(std::string_view name, Direction direction) {
  size_t block = block_prefix_length(name);
  if (block == 0) return rename(name, kTopLevel, direction);
  return std::string(name.substr(0, block)) + rename(name.substr(block), kInBlock, direction);
}

}  // namespace

bool wan_is_diffusers_name(std::string_view name) {
  size_t block = block_prefix_length(name);
  std::string_view rest = name.substr(block);
  if (block == 0) {
    return rest.starts_with("condition_embedder.") || rest.starts_with("proj_out.") ||
           rest == "scale_shift_table";
  }
  return rest.starts_with("attn1.") || rest.starts_with("attn2.") || rest.starts_with("ffn.net.") ||
         rest == "scale_shift_table";
}

std::string wan_original_name(std::string_view diffusers_name) {
  return convert(diffusers_name, Direction::ToOriginal);
}

std::string wan_diffusers_name(std::string_view original_name) {
  return convert(original_name, Direction::ToDiffusers);
}

std::optional<std::string> wan_prefix_of(std::string_view stored, std::string_view name) {
  if (!stored.ends_with(name)) return std::nullopt;
  const size_t at = stored.size() - name.size();
  if (at > 0 && stored[at - 1] != '.') return std::nullopt;
  return std::string(stored.substr(0, at));
}

}  // namespace svgear
