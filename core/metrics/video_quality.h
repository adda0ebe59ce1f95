#pragma once
// Video quality against a reference: per-frame PSNR and SSIM with the conventions of the sparse
// attention papers' metric.py (../shared/reference/anchors.md §4): RGB scaled to [0, 1], PSNR =
// 10·log10(1/MSE) over all pixels and channels of a frame; SSIM with an 11×11 uniform window
// centred on every pixel of the zero-padded frame (avg_pool2d, padding 5), C1 = 0.01², C2 = 0.03²,
// each channel's SSIM map averaged together with the others; both then averaged over frames. One
// departure: the PSNR mean leaves out identical frames (metric.py's would be +inf), and says how
// many there were. The reference is the dense run of the same request, not real footage.

#include <string>
#include <vector>

#include "core/media/video.h"

namespace svgear {

struct VideoQuality {
  std::vector<double> psnr_db;  // per frame; +inf where the frames are identical
  std::vector<double> ssim;     // per frame, in [-1, 1]; 1 where identical
  // Mean over the frames that differ; +inf only when every frame is identical (an identical
  // frame's infinite PSNR would make any mean infinite: "inf (identical)" for a clip that is not).
  double mean_psnr_db = 0.0;
  double mean_ssim = 0.0;
  int identical_frames = 0;     // frames with MSE 0, so a reader can tell "inf" apart from "large"
};

// Throws UserError when the videos differ in frame count or size (e.g. a cached run of another
// request), or are empty.
VideoQuality compare_videos(const Video& reference, const Video& test);

// PSNR in words for tables: "31.42 dB", or "inf (identical)".
std::string format_psnr_db(double psnr_db);

}  // namespace svgear
