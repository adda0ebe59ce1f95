#pragma once
// SweepPoint: one budget of a Pareto sweep — the sparse run's quality against the dense run of the
// same request and seed, and the time of one denoising step of each. Plain values: it crosses a
// queued signal.

#include <string>

#include <QMetaType>

namespace svgear {

struct SweepPoint {
  std::string mode;  // "svg2" or "svgear"
  double top_p = 0.0;
  double mean_psnr_db = 0.0;  // +inf when the sparse video equals the dense one
  double mean_ssim = 0.0;
  double step_ms = 0.0;        // the sparse run's mean time per denoising step
  double dense_step_ms = 0.0;  // the dense run's
  double speedup() const { return step_ms > 0.0 ? dense_step_ms / step_ms : 0.0; }
};

}  // namespace svgear

Q_DECLARE_METATYPE(svgear::SweepPoint)
