#pragma once
// Spatial tiling of a latent decode, to bound the decoder's memory by the tile size instead of
// the frame size. Tiles overlap in latent space and are blended linearly across each overlap, so
// no seam shows where they meet; every tile is decoded on its own (with its own causal caches).

#include <functional>

#include <ATen/core/Tensor.h>

namespace svgear {

struct LatentTiling {
  // 32 latent = 256 video pixels per side with 8 latent (64 px) shared, the split Diffusers uses
  // for the Wan 2.1 VAE; a 480×832 frame (60×104 latent) becomes 3×4 tiles. The same latent split
  // serves the Wan 2.2 VAE (512 px per tile, 128 px shared): a 704×1280 frame becomes 2×3 tiles.
  int tile = 32;
  int overlap = 8;
};

// Decodes one tile: [C, T, th, tw] → [3, F, th·spatial_factor, tw·spatial_factor].
using TileDecodeFn = std::function<at::Tensor(const at::Tensor& latent_tile)>;

// Whether `latent` ([C, T, h, w]) is no larger than one tile, so decode_in_tiles decodes it whole.
bool fits_one_tile(const at::Tensor& latent, const LatentTiling& tiling);

// latent: [C, T, h, w] → [3, F, h·spatial_factor, w·spatial_factor] float32, the tiles' outputs
// blended with weights that ramp linearly across each overlap (normalised to sum to one). A latent
// no larger than one tile is decoded whole. Throws UserError for tile <= 2·overlap or overlap < 0.
at::Tensor decode_in_tiles(const at::Tensor& latent, const LatentTiling& tiling, int spatial_factor,
                           const TileDecodeFn& decode_tile);

}  // namespace svgear
