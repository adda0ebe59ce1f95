#pragma once
// The videos a Compare shows and exports besides its two runs: the difference map (per pixel the
// largest |dense − sparse| of its three channels, scaled by the largest such value in the whole
// video so frames compare with each other, coloured with viridis) and the side-by-side clip dense | sparse |
// difference. Built off the GUI thread (the worker, the export thread): for a Wan clip each is
// ~0.1–0.3 GB of pixels.

#include "core/media/video.h"

namespace svgear {

// Pixels of dark grey between the panels of side_by_side.
inline constexpr int kSideBySideGap = 4;

// `largest` receives the largest difference (0..255), which viridis's yellow stands for.
Video difference_video(const Video& dense, const Video& sparse, int& largest);

// dense | sparse | difference, frame by frame, at video size, kSideBySideGap apart; dense's fps.
Video side_by_side(const Video& dense, const Video& sparse, const Video& difference);

}  // namespace svgear
