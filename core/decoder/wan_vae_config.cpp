#include "core/decoder/wan_vae_config.h"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace svgear {

std::vector<int> WanVaeConfig::stage_dims() const {
  std::vector<int> dims = {base_dim * dim_mult.back()};
  for (auto it = dim_mult.rbegin(); it != dim_mult.rend(); ++it) dims.push_back(base_dim * *it);
  return dims;
}

int WanVaeConfig::spatial_factor() const { return 1 << (int(dim_mult.size()) - 1); }

int WanVaeConfig::temporal_factor() const {
  int factor = 1;
  for (size_t stage = 0; stage + 1 < dim_mult.size(); ++stage) {
    if (temporal_upsample[stage]) factor *= 2;
  }
  return factor;
}

WanVaeConfig WanVaeConfig::from_shapes(const std::map<std::string, std::vector<int64_t>>& shapes) {
  WanVaeConfig c;
  if (auto it = shapes.find("conv2.weight"); it != shapes.end() && !it->second.empty()) {
    c.z_dim = int(it->second[0]);
  }
  // decoder.head.2.weight: [3, base_dim * dim_mult[0], 3, 3, 3]
  if (auto it = shapes.find("decoder.head.2.weight"); it != shapes.end() && it->second.size() > 1) {
    c.base_dim = int(it->second[1]) / c.dim_mult.front();
  }
  // stages × (num_res_blocks + 1) residual blocks plus (stages - 1) resamples
  constexpr std::string_view kUpsamples = "decoder.upsamples.";
  constexpr int kMaxUpsampleEntries = 256;  // a hostile index must not size the layout
  int entries = 0;
  for (const auto& [name, shape] : shapes) {
    if (!name.starts_with(kUpsamples)) continue;
    int index = 0;
    const char* digits = name.data() + kUpsamples.size();
    if (std::from_chars(digits, name.data() + name.size(), index).ec != std::errc()) continue;
    if (index < 0 || index >= kMaxUpsampleEntries) continue;
    entries = std::max(entries, index + 1);
  }
  const int stages = int(c.dim_mult.size());
  if (entries > 0 && (entries - (stages - 1)) % stages == 0) {
    c.num_res_blocks = (entries - (stages - 1)) / stages - 1;
    for (int stage = 0; stage + 1 < stages; ++stage) {
      const int resample = c.first_upsample_index(stage) + c.num_res_blocks + 1;
      const std::string time_conv = std::string(kUpsamples) + std::to_string(resample) + ".time_conv.";
      c.temporal_upsample[stage] =
          shapes.contains(time_conv + "weight") || shapes.contains(time_conv + "bias");
    }
  }
  return c;
}

}  // namespace svgear
