#include "core/decoder/wan_vae_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

namespace svgear {
namespace {

// upstream wan/modules/vae2_2.py, Wan2_2_VAE.__init__: mean and std of the 48 latent channels.
constexpr float kWan22LatentsMean[kWan22LatentChannels] = {
    -0.2289f, -0.0052f, -0.1323f, -0.2339f, -0.2799f, 0.0174f,  0.1838f,  0.1557f,
    -0.1382f, 0.0542f,  0.2813f,  0.0891f,  0.1570f,  -0.0098f, 0.0375f,  -0.1825f,
    -0.2246f, -0.1207f, -0.0698f, 0.5109f,  0.2665f,  -0.2108f, -0.2158f, 0.2502f,
    -0.2055f, -0.0322f, 0.1109f,  0.1567f,  -0.0729f, 0.0899f,  -0.2799f, -0.1230f,
    -0.0313f, -0.1649f, 0.0117f,  0.0723f,  -0.2839f, -0.2083f, -0.0520f, 0.3748f,
    0.0152f,  0.1957f,  0.1433f,  -0.2944f, 0.3573f,  -0.0548f, -0.1681f, -0.0667f};
constexpr float kWan22LatentsStd[kWan22LatentChannels] = {
    0.4765f, 1.0364f, 0.4514f, 1.1677f, 0.5313f, 0.4990f, 0.4818f, 0.5013f,
    0.8158f, 1.0344f, 0.5894f, 1.0901f, 0.6885f, 0.6165f, 0.8454f, 0.4978f,
    0.5759f, 0.3523f, 0.7135f, 0.6804f, 0.5833f, 1.4146f, 0.8986f, 0.5659f,
    0.7069f, 0.5338f, 0.4889f, 0.4917f, 0.4069f, 0.4999f, 0.6866f, 0.4093f,
    0.5709f, 0.6065f, 0.6415f, 0.4944f, 0.5726f, 1.2042f, 0.5458f, 1.6887f,
    0.3971f, 1.0600f, 0.3943f, 0.5537f, 0.5444f, 0.4089f, 0.7468f, 0.7744f};

// ComfyUI comfy/latent_formats.py, class Wan22: latent_rgb_factors (one R, G, B row per latent
// channel) and latent_rgb_factors_bias, applied to the normalised latent; the result is
// nominally [-1, 1] like a decoded video.
constexpr float kWan22PreviewRgbFactors[(kWan22LatentChannels + 1) * 3] = {
    0.0119f,  0.0103f,  0.0046f,   -0.1062f, -0.0504f, 0.0165f,   0.0140f,  0.0409f,  0.0491f,
    -0.0813f, -0.0677f, 0.0607f,   0.0656f,  0.0851f,  0.0808f,   0.0264f,  0.0463f,  0.0912f,
    0.0295f,  0.0326f,  0.0590f,   -0.0244f, -0.0270f, 0.0025f,   0.0443f,  -0.0102f, 0.0288f,
    -0.0465f, -0.0090f, -0.0205f,  0.0359f,  0.0236f,  0.0082f,   -0.0776f, 0.0854f,  0.1048f,
    0.0564f,  0.0264f,  0.0561f,   0.0006f,  0.0594f,  0.0418f,   -0.0319f, -0.0542f, -0.0637f,
    -0.0268f, 0.0024f,  0.0260f,   0.0539f,  0.0265f,  0.0358f,   -0.0359f, -0.0312f, -0.0287f,
    -0.0285f, -0.1032f, -0.1237f,  0.1041f,  0.0537f,  0.0622f,   -0.0086f, -0.0374f, -0.0051f,
    0.0390f,  0.0670f,  0.2863f,   0.0069f,  0.0144f,  0.0082f,   0.0006f,  -0.0167f, 0.0079f,
    0.0313f,  -0.0574f, -0.0232f,  -0.1454f, -0.0902f, -0.0481f,  0.0714f,  0.0827f,  0.0447f,
    -0.0304f, -0.0574f, -0.0196f,  0.0401f,  0.0384f,  0.0204f,   -0.0758f, -0.0297f, -0.0014f,
    0.0568f,  0.1307f,  0.1372f,   -0.0055f, -0.0310f, -0.0380f,  0.0239f,  -0.0305f, 0.0325f,
    -0.0663f, -0.0673f, -0.0140f,  -0.0416f, -0.0047f, -0.0023f,  0.0166f,  0.0112f,  -0.0093f,
    -0.0211f, 0.0011f,  0.0331f,   0.1833f,  0.1466f,  0.2250f,   -0.0368f, 0.0370f,  0.0295f,
    -0.3441f, -0.3543f, -0.2008f,  -0.0479f, -0.0489f, -0.0420f,  -0.0660f, -0.0153f, 0.0800f,
    -0.0101f, 0.0068f,  0.0156f,   -0.0690f, -0.0452f, -0.0927f,  -0.0145f, 0.0041f,  0.0015f,
    0.0421f,  0.0451f,  0.0373f,   0.0504f,  -0.0483f, -0.0356f,  -0.0837f, 0.0168f,  0.0055f,
    // bias
    0.0317f,  -0.0878f, -0.1388f};

constexpr std::string_view kUpsamples = "decoder.upsamples.";
constexpr int kMaxNameIndex = 256;  // wan_vae_leading_index's bound

// A size read from a tensor's shape, when it is one a VAE could have: zero-byte tensors can claim
// any size, and a negative or wrapped int would size the layout (a meta tensor of -5 channels is an
// internal error, 0 channels decode nothing). An implausible size is not adopted: the default's
// expected shape then differs from the file's, and loading names the tensor and both shapes.
constexpr int64_t kLargestSize = int64_t(1) << 16;
bool plausible_size(int64_t size) { return size >= 1 && size <= kLargestSize; }

// 2.2 names an entry decoder.upsamples.{stage}.upsamples.{entry}.
bool is_nested_upsample_name(std::string_view name) {
  if (!name.starts_with(kUpsamples)) return false;
  std::string_view rest;
  return wan_vae_leading_index(name.substr(kUpsamples.size()), rest) >= 0 && rest.starts_with(".upsamples.");
}

}  // namespace

std::string wan_vae_upsample_entry_prefix(WanVaeVersion version, int num_res_blocks, int stage, int entry) {
  if (version == WanVaeVersion::Wan22) {
    return std::string(kUpsamples) + std::to_string(stage) + ".upsamples." + std::to_string(entry) + ".";
  }
  return std::string(kUpsamples) + std::to_string(stage * (num_res_blocks + 2) + entry) + ".";
}

int wan_vae_leading_index(std::string_view text, std::string_view& rest) {
  int index = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
  if (ec != std::errc() || index < 0 || index >= kMaxNameIndex) return -1;
  rest = text.substr(size_t(end - text.data()));
  return index;
}

const char* wan_vae_version_name(WanVaeVersion version) {
  switch (version) {
    case WanVaeVersion::Wan21: return "Wan 2.1";
    case WanVaeVersion::Wan22: return "Wan 2.2";
    case WanVaeVersion::Unset: break;
  }
  return "unset";
}

WanVaeConfig WanVaeConfig::wan22() {
  WanVaeConfig c;
  c.version = WanVaeVersion::Wan22;
  c.base_dim = 256;  // WanVAE_'s dec_dim; _video_vae passes only the encoder's dim (160)
  c.z_dim = kWan22LatentChannels;
  c.patch_size = 2;
  c.temporal_upsample = {true, true, false};  // Wan2_2_VAE's temperal_downsample [False, True, True] reversed
  c.latents_mean.assign(std::begin(kWan22LatentsMean), std::end(kWan22LatentsMean));
  c.latents_std.assign(std::begin(kWan22LatentsStd), std::end(kWan22LatentsStd));
  c.preview_rgb_factors.assign(std::begin(kWan22PreviewRgbFactors), std::end(kWan22PreviewRgbFactors));
  return c;
}

std::vector<int> WanVaeConfig::stage_dims() const {
  std::vector<int> dims = {base_dim * dim_mult.back()};
  for (auto it = dim_mult.rbegin(); it != dim_mult.rend(); ++it) dims.push_back(base_dim * *it);
  return dims;
}

int WanVaeConfig::stage_input_dim(int stage) const {
  const int dim = stage_dims()[size_t(stage)];
  return stage > 0 && version == WanVaeVersion::Wan21 ? dim / 2 : dim;
}

int WanVaeConfig::resample_out_dim(int dim) const {
  return version == WanVaeVersion::Wan21 ? dim / 2 : dim;
}

int WanVaeConfig::spatial_factor() const { return (1 << (int(dim_mult.size()) - 1)) * patch_size; }

int WanVaeConfig::temporal_factor() const {
  int factor = 1;
  for (size_t stage = 0; stage + 1 < dim_mult.size(); ++stage) {
    if (temporal_upsample[stage]) factor *= 2;
  }
  return factor;
}

std::string WanVaeConfig::upsample_entry_prefix(int stage, int entry) const {
  return wan_vae_upsample_entry_prefix(version, num_res_blocks, stage, entry);
}

WanVaeConfig WanVaeConfig::from_shapes(const std::map<std::string, std::vector<int64_t>>& shapes) {
  int z_dim = 0;
  if (auto it = shapes.find("conv2.weight"); it != shapes.end() && !it->second.empty() &&
                                              plausible_size(it->second[0])) {
    z_dim = int(it->second[0]);
  }
  const bool nested = std::any_of(shapes.begin(), shapes.end(),
                                  [](const auto& entry) { return is_nested_upsample_name(entry.first); });
  WanVaeConfig c = nested || z_dim == kWan22LatentChannels ? wan22() : WanVaeConfig{};
  if (z_dim > 0) c.z_dim = z_dim;
  // decoder.head.2.weight: [3·p², base_dim * dim_mult[0], 3, 3, 3]
  if (auto it = shapes.find("decoder.head.2.weight"); it != shapes.end() && it->second.size() > 1) {
    const std::vector<int64_t>& head = it->second;
    if (plausible_size(head[1]) && head[1] % c.dim_mult.front() == 0) {
      c.base_dim = int(head[1]) / c.dim_mult.front();
    }
    const int64_t patch = plausible_size(head[0]) ? std::lround(std::sqrt(double(head[0]) / 3.0)) : 0;
    if (patch >= 1 && 3 * patch * patch == head[0]) c.patch_size = int(patch);
  } else if (auto conv = shapes.find("decoder.conv1.weight"); conv != shapes.end() && !conv->second.empty()) {
    // Without the head (a damaged file), the width from the decoder's first convolution,
    // [base_dim * dim_mult.back(), z_dim, 3, 3, 3]: else the one missing tensor reads as a VAE of
    // upstream's width and every other tensor as misfit.
    const int64_t width = conv->second[0];
    if (plausible_size(width) && width % c.dim_mult.back() == 0) c.base_dim = int(width) / c.dim_mult.back();
  }
  // 2.1: stages × (num_res_blocks + 1) residual blocks plus (stages - 1) resamples in one list;
  // 2.2: stage 0 holds num_res_blocks + 1 residual blocks and its resample.
  const int stages = int(c.dim_mult.size());
  int entries = 0;
  for (const auto& [name, shape] : shapes) {
    if (!name.starts_with(kUpsamples)) continue;
    std::string_view rest;
    int index = wan_vae_leading_index(std::string_view(name).substr(kUpsamples.size()), rest);
    if (c.version == WanVaeVersion::Wan22) {
      constexpr std::string_view kInner = ".upsamples.";
      if (index != 0 || !rest.starts_with(kInner)) continue;
      index = wan_vae_leading_index(rest.substr(kInner.size()), rest);
    }
    if (index >= 0) entries = std::max(entries, index + 1);
  }
  int num_res_blocks = -1;
  if (c.version == WanVaeVersion::Wan22 && entries >= 2) {
    num_res_blocks = entries - 2;
  } else if (c.version == WanVaeVersion::Wan21 && entries > 0 && (entries - (stages - 1)) % stages == 0) {
    num_res_blocks = (entries - (stages - 1)) / stages - 1;
  }
  if (num_res_blocks >= 0) {
    c.num_res_blocks = num_res_blocks;
    for (int stage = 0; stage + 1 < stages; ++stage) {
      const std::string time_conv = c.upsample_entry_prefix(stage, num_res_blocks + 1) + "time_conv.";
      c.temporal_upsample[stage] =
          shapes.contains(time_conv + "weight") || shapes.contains(time_conv + "bias");
    }
  }
  return c;
}

}  // namespace svgear
