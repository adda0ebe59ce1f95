#include "core/sampling/flow_schedule.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "core/user_error.h"

namespace svgear {

namespace {

constexpr int kTrainTimesteps = 1000;
// More steps than training timesteps would repeat timesteps and add nothing.
constexpr int kMaxSteps = kTrainTimesteps;

// Wan's training sigmas run from 1 - 1/1000 down to 0, stored as float32; the largest one
// starts every inference schedule, so it carries that float32 rounding too.
double train_sigma_max() {
  return double(float(1.0 - 1.0 / kTrainTimesteps));
}

}  // namespace

FlowSchedule make_flow_schedule(int num_steps, double shift) {
  if (num_steps <= 0 || num_steps > kMaxSteps) {
    throw UserError("sampling steps must be between 1 and " + std::to_string(kMaxSteps) + " (got " +
                    std::to_string(num_steps) + ")");
  }
  if (!(shift > 0.0) || !std::isfinite(shift)) {
    throw UserError("sampling shift must be a positive number (got " + std::to_string(shift) + ")");
  }
  FlowSchedule schedule;
  schedule.sigmas.reserve(num_steps + 1);
  schedule.timesteps.reserve(num_steps);
  const double sigma_max = train_sigma_max();
  // numpy.linspace(sigma_max, 0, num_steps + 1) without its endpoint, term by term as numpy
  // computes it, so the truncated timesteps agree with upstream exactly.
  const double delta = (0.0 - sigma_max) / num_steps;
  for (int i = 0; i < num_steps; ++i) {
    double sigma = i * delta + sigma_max;
    sigma = shift * sigma / (1.0 + (shift - 1.0) * sigma);
    // Upstream casts the timesteps to int64 (truncation) and the sigmas to float32.
    schedule.timesteps.push_back(std::trunc(sigma * kTrainTimesteps));
    schedule.sigmas.push_back(double(float(sigma)));
  }
  schedule.sigmas.push_back(0.0);
  // An extreme shift pushes float32 sigmas onto 1 or 0 or onto each other, where the multistep
  // solvers' log-SNR steps become infinite or zero.
  bool usable = schedule.sigmas.front() < 1.0 && schedule.sigmas[num_steps - 1] > 0.0;
  for (int i = 0; usable && i + 1 < num_steps; ++i) {
    usable = schedule.sigmas[i + 1] < schedule.sigmas[i];
  }
  if (!usable) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", shift);  // to_string's %f shows 1e-300 as 0.000000
    throw UserError("sampling shift " + std::string(shown) + " is too extreme for " +
                    std::to_string(num_steps) +
                    " steps: the noise levels collapse (Wan uses 1 to 20)");
  }
  return schedule;
}

}  // namespace svgear
