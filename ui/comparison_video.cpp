#include "ui/comparison_video.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include "ui/viridis.h"

namespace svgear {

Video difference_video(const Video& dense, const Video& sparse, int& largest) {
  const size_t pixels = size_t(dense.frames) * dense.height * dense.width;
  std::vector<uint8_t> diff(pixels);
  largest = 0;
  for (size_t p = 0; p < pixels; ++p) {
    // The largest channel's: a mean over channels rounded one level in one channel down to 0, and
    // the map then showed "no difference" beside a PSNR of 87 dB.
    int most = 0;
    for (int c = 0; c < 3; ++c) most = std::max(most, std::abs(int(dense.rgb[p * 3 + c]) - int(sparse.rgb[p * 3 + c])));
    diff[p] = uint8_t(most);
    largest = std::max(largest, int(diff[p]));
  }
  // A colour per difference value (0..255): one viridis evaluation each, not one per pixel.
  std::array<std::array<uint8_t, 3>, 256> palette;
  for (int d = 0; d < 256; ++d) {
    const QColor colour = viridis(largest > 0 ? float(d) / largest : 0.0f);
    palette[size_t(d)] = {uint8_t(colour.red()), uint8_t(colour.green()), uint8_t(colour.blue())};
  }
  Video out;
  out.frames = dense.frames;
  out.height = dense.height;
  out.width = dense.width;
  out.fps = dense.fps;
  out.rgb.resize(pixels * 3);
  for (size_t p = 0; p < pixels; ++p) std::copy_n(palette[diff[p]].data(), 3, out.rgb.data() + p * 3);
  return out;
}

Video side_by_side(const Video& dense, const Video& sparse, const Video& difference) {
  Video out;
  out.frames = dense.frames;
  out.width = 3 * dense.width + 2 * kSideBySideGap;
  out.height = dense.height;
  out.fps = dense.fps;
  out.rgb.assign(size_t(out.frames) * out.frame_bytes(), 32);
  const size_t row_bytes = size_t(dense.width) * 3;
  for (int f = 0; f < out.frames; ++f) {
    const Video* panels[] = {&dense, &sparse, &difference};
    for (int i = 0; i < 3; ++i) {
      for (int y = 0; y < dense.height; ++y) {
        std::copy_n(panels[i]->frame(f) + y * row_bytes, row_bytes,
                    out.frame(f) + (size_t(y) * out.width + size_t(i) * (dense.width + kSideBySideGap)) * 3);
      }
    }
  }
  return out;
}

}  // namespace svgear
