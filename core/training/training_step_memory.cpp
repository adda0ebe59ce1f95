#include "core/training/training_step_memory.h"

#include <cmath>

namespace svgear {

int64_t training_clip_host_bytes(const ShapesModelSpec& spec) {
  const WanConfig& c = spec.dit;
  const int64_t tokens = int64_t(spec.clip.frames / c.patch_size[0]) * (spec.clip.height / c.patch_size[1]) *
                         (spec.clip.width / c.patch_size[2]);
  const double pixel_values = double(c.in_dim) * c.patch_size[0] * c.patch_size[1] * c.patch_size[2];
  const double floats_per_token =
      double(c.num_layers) * (26.0 * c.dim + 2.2 * c.ffn_dim) + 9.0 * c.dim + 4.0 * pixel_values;
  // The rendered clip (3 bytes a pixel) and its object coverage (1), twice.
  const int64_t rendered = 2 * int64_t(spec.clip.frames) * spec.clip.height * spec.clip.width * 4;
  return int64_t(std::ceil(4.0 * floats_per_token * double(tokens))) + rendered;
}

int64_t training_step_host_bytes(const ShapesModelSpec& spec, int64_t batch) {
  return batch * training_clip_host_bytes(spec);
}

}  // namespace svgear
