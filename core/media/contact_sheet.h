#pragma once
// A contact sheet: clips laid out as rows of still frames in one RGB image, for docs and reviews
// (`svgear eval --sheet`). Row r holds the clips rows[r] side by side, each shown as `frames`
// evenly spaced frames (first and last included), scaled up by `scale` (nearest neighbour) and
// separated by thin gaps. All clips must share one frame size.

#include <vector>

#include "core/media/video.h"

namespace svgear {

struct RgbImage {
  int height = 0;
  int width = 0;
  std::vector<uint8_t> rgb;  // [height, width, 3]
};

// Throws MediaError for no clips, empty clips or clips of different frame sizes.
RgbImage contact_sheet(const std::vector<std::vector<const Video*>>& rows, int frames, int scale);

}  // namespace svgear
