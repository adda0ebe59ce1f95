#include "core/decoder/wan_vae_weight_names.h"

#include <array>
#include <utility>

namespace svgear {
namespace {

using NamePair = std::pair<std::string_view, std::string_view>;  // (original, Diffusers)

constexpr std::array<NamePair, 5> kResidualParts = {{{"residual.0.", "norm1."},
                                                     {"residual.2.", "conv1."},
                                                     {"residual.3.", "norm2."},
                                                     {"residual.6.", "conv2."},
                                                     {"shortcut.", "conv_shortcut."}}};

constexpr std::array<NamePair, 5> kFixedPrefixes = {{{"conv2.", "post_quant_conv."},
                                                     {"decoder.conv1.", "decoder.conv_in."},
                                                     {"decoder.middle.1.", "decoder.mid_block.attentions.0."},
                                                     {"decoder.head.0.", "decoder.norm_out."},
                                                     {"decoder.head.2.", "decoder.conv_out."}}};

// A residual block's tensor name after its block prefix, from one naming to the other.
std::string residual_part(std::string_view rest, bool to_diffusers) {
  for (const auto& [original, diffusers] : kResidualParts) {
    const std::string_view from = to_diffusers ? original : diffusers;
    const std::string_view to = to_diffusers ? diffusers : original;
    if (rest.starts_with(from)) return std::string(to) + std::string(rest.substr(from.size()));
  }
  return "";
}

// The index at the start of `text` (wan_vae_leading_index) and the rest after the '.' that must
// follow it; `index` and `rest` are left alone when there is none.
bool split_index(std::string_view text, int& index, std::string_view& rest) {
  std::string_view after;
  const int found = wan_vae_leading_index(text, after);
  if (found < 0 || !after.starts_with('.')) return false;
  index = found;
  rest = after.substr(1);
  return true;
}

std::string with_rest(std::string_view prefix, const std::string& rest) {
  return rest.empty() ? "" : std::string(prefix) + rest;
}

}  // namespace

std::string wan_vae_original_name(std::string_view name, WanVaeVersion version, int num_res_blocks) {
  for (const auto& [original, diffusers] : kFixedPrefixes) {
    if (name.starts_with(diffusers)) return std::string(original) + std::string(name.substr(diffusers.size()));
  }
  constexpr std::string_view kMid = "decoder.mid_block.resnets.";
  constexpr std::string_view kUp = "decoder.up_blocks.";
  int index = 0;
  std::string_view rest;
  if (name.starts_with(kMid) && split_index(name.substr(kMid.size()), index, rest) && index < 2) {
    return with_rest("decoder.middle." + std::to_string(2 * index) + ".", residual_part(rest, false));
  }
  int stage = 0;
  if (!name.starts_with(kUp) || !split_index(name.substr(kUp.size()), stage, rest)) return "";
  constexpr std::string_view kResnets = "resnets.";
  const std::string_view upsampler = version == WanVaeVersion::Wan22 ? "upsampler." : "upsamplers.0.";
  if (rest.starts_with(kResnets) && split_index(rest.substr(kResnets.size()), index, rest)) {
    const std::string block = wan_vae_upsample_entry_prefix(version, num_res_blocks, stage, index);
    return with_rest(block, residual_part(rest, false));
  }
  if (rest.starts_with(upsampler)) {
    return wan_vae_upsample_entry_prefix(version, num_res_blocks, stage, num_res_blocks + 1) +
           std::string(rest.substr(upsampler.size()));
  }
  return "";
}

std::string wan_vae_diffusers_name(std::string_view name, WanVaeVersion version, int num_res_blocks) {
  for (const auto& [original, diffusers] : kFixedPrefixes) {
    if (name.starts_with(original)) return std::string(diffusers) + std::string(name.substr(original.size()));
  }
  constexpr std::string_view kMiddle = "decoder.middle.";
  constexpr std::string_view kUpsamples = "decoder.upsamples.";
  int index = 0;
  std::string_view rest;
  if (name.starts_with(kMiddle) && split_index(name.substr(kMiddle.size()), index, rest) && index != 1) {
    return with_rest("decoder.mid_block.resnets." + std::to_string(index / 2) + ".", residual_part(rest, true));
  }
  if (!name.starts_with(kUpsamples) || !split_index(name.substr(kUpsamples.size()), index, rest)) return "";
  int stage = index / (num_res_blocks + 2);
  int j = index % (num_res_blocks + 2);
  if (version == WanVaeVersion::Wan22) {
    constexpr std::string_view kInner = "upsamples.";
    stage = index;
    if (!rest.starts_with(kInner) || !split_index(rest.substr(kInner.size()), j, rest)) return "";
  }
  const std::string block = "decoder.up_blocks." + std::to_string(stage) + ".";
  if (j <= num_res_blocks) return with_rest(block + "resnets." + std::to_string(j) + ".", residual_part(rest, true));
  return block + (version == WanVaeVersion::Wan22 ? "upsampler." : "upsamplers.0.") + std::string(rest);
}

}  // namespace svgear
