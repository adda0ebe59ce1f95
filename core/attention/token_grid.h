#pragma once
// TokenGrid: the DiT's tokens over a latent, one per patch, frames × height × width of them,
// flattened frame-major into the sequence every attention call sees.

#include <cstdint>

namespace svgear {

struct TokenGrid {
  int frames = 0;
  int height = 0;
  int width = 0;
  int64_t tokens() const { return int64_t(frames) * height * width; }
};

}  // namespace svgear
