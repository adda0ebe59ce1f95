#include "core/decoder/latent_tiling.h"

#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "core/user_error.h"

namespace svgear {
namespace {

struct TileSpan {
  int64_t start = 0;   // latent units
  int64_t size = 0;
  int64_t before = 0;  // latent units shared with the previous tile
  int64_t after = 0;   // latent units shared with the next tile
};

// Evenly spaced tiles covering [0, extent), neighbours sharing at least `overlap`.
std::vector<TileSpan> tile_spans(int64_t extent, int64_t tile, int64_t overlap) {
  if (extent <= tile) return {{0, extent, 0, 0}};
  const int64_t count = (extent - overlap + (tile - overlap) - 1) / (tile - overlap);
  std::vector<TileSpan> spans(count);
  for (int64_t i = 0; i < count; ++i) {
    spans[i].start = (i * (extent - tile) + (count - 1) / 2) / (count - 1);
    spans[i].size = tile;
  }
  for (int64_t i = 0; i + 1 < count; ++i) {
    const int64_t shared = spans[i].start + tile - spans[i + 1].start;
    spans[i].after = shared;
    spans[i + 1].before = shared;
  }
  return spans;
}

// Blend weight of each output pixel of a tile along one axis: 1 inside, a linear ramp across
// the shared parts, (p + 0.5) / n so that two neighbours' ramps sum to one.
at::Tensor axis_weights(const TileSpan& span, int factor) {
  std::vector<float> w(size_t(span.size * factor), 1.0f);
  const int64_t before = span.before * factor;
  const int64_t after = span.after * factor;
  const int64_t n = int64_t(w.size());
  for (int64_t p = 0; p < before; ++p) w[p] *= float((p + 0.5) / double(before));
  for (int64_t p = 0; p < after; ++p) w[n - 1 - p] *= float((p + 0.5) / double(after));
  return at::tensor(w);
}

}  // namespace

bool fits_one_tile(const at::Tensor& latent, const LatentTiling& tiling) {
  return latent.size(2) <= tiling.tile && latent.size(3) <= tiling.tile;
}

at::Tensor decode_in_tiles(const at::Tensor& latent, const LatentTiling& tiling, int spatial_factor,
                           const TileDecodeFn& decode_tile) {
  if (tiling.overlap < 0 || tiling.tile <= 2 * tiling.overlap) {
    throw UserError("VAE tiling: tile " + std::to_string(tiling.tile) + " with overlap " +
                    std::to_string(tiling.overlap) +
                    " does not work: the tile must be more than twice the overlap (e.g. 32 and 8)");
  }
  if (fits_one_tile(latent, tiling)) return decode_tile(latent).to(at::kFloat);
  const int64_t height = latent.size(2);
  const int64_t width = latent.size(3);

  const std::vector<TileSpan> rows = tile_spans(height, tiling.tile, tiling.overlap);
  const std::vector<TileSpan> cols = tile_spans(width, tiling.tile, tiling.overlap);
  at::Tensor sum;         // [3, F, H, W]
  at::Tensor weight_sum;  // [H, W]
  for (const TileSpan& row : rows) {
    for (const TileSpan& col : cols) {
      at::Tensor tile = latent.narrow(2, row.start, row.size).narrow(3, col.start, col.size);
      at::Tensor video = decode_tile(tile).to(at::kFloat);  // [3, F, th·f, tw·f]
      if (!sum.defined()) {
        sum = at::zeros({video.size(0), video.size(1), height * spatial_factor,
                         width * spatial_factor}, video.options());
        weight_sum = at::zeros({height * spatial_factor, width * spatial_factor}, video.options());
      }
      const at::Tensor weight = at::outer(axis_weights(row, spatial_factor),
                                          axis_weights(col, spatial_factor))
                                    .to(video.device());  // [th·f, tw·f]
      const int64_t y0 = row.start * spatial_factor;
      const int64_t x0 = col.start * spatial_factor;
      // In place, here and in the division: the sum is the whole clip in float32 (390 MB at 81 frames of
      // 480×832), and a temporary of it would double the decode's peak.
      sum.narrow(2, y0, video.size(2)).narrow(3, x0, video.size(3)).addcmul_(video, weight);
      weight_sum.narrow(0, y0, weight.size(0)).narrow(1, x0, weight.size(1)).add_(weight);
    }
  }
  return sum.div_(weight_sum);
}

}  // namespace svgear
