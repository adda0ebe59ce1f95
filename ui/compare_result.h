#pragma once
// CompareResult: what a Compare run hands the GUI — the dense and the sparse video of one request
// and seed (as read back from the written files, like `svgear compare`), their difference map
// (ui/comparison_video.h), their per-frame quality and their timings. It crosses a queued signal:
// the videos are shared, not copied.

#include <cstdint>
#include <string>
#include <vector>

#include <QMetaType>

#include "core/media/video.h"

namespace svgear {

struct CompareResult {
  std::string sparse_mode;  // "svg2" or "svgear"
  // What the sparse run ran with, "top-p 0.9, 200 query / 1000 key clusters": the knobs may show
  // others by the time it is looked at. Empty in a Compare kept by an earlier version.
  std::string sparse_settings;
  uint64_t seed = 0;        // of both runs: the settings may show another by the time it is looked at
  std::string prompt;       // likewise
  int steps = 0;            // denoising steps of each run; 0 in a Compare kept by an earlier version
  std::string created;      // when the sparse run was made (UTC, ISO 8601); empty likewise
  SharedVideo dense;
  SharedVideo sparse;
  SharedVideo difference;      // viridis-coloured |dense − sparse|
  int largest_difference = 0;  // of 255: what the difference map's yellow stands for
  std::vector<double> psnr_db;  // per frame, sparse against dense; +inf where identical
  std::vector<double> ssim;
  double mean_psnr_db = 0.0;
  double mean_ssim = 0.0;
  // Wall time of each whole run, its text encoding aside, and the mean time of one denoising step
  // after the first (the only one's, one-time costs included, in a one-step run), from the run records.
  double dense_total_ms = 0.0;
  double sparse_total_ms = 0.0;
  double dense_step_ms = 0.0;
  double sparse_step_ms = 0.0;
  bool dense_reused = false;  // the dense run came from the cache, not from this Compare
};

}  // namespace svgear

Q_DECLARE_METATYPE(svgear::CompareResult)
