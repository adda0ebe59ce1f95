#include "core/pipeline/time_left.h"

#include <numeric>

namespace svgear {

double time_left_ms(const std::vector<double>& step_ms, int num_steps, int preview_every, int previews,
                    double first_preview_ms, double preview_ms) {
  const int done = int(step_ms.size());
  if (done == 0 || done >= num_steps) return 0.0;
  const double mean_step = std::accumulate(step_ms.begin(), step_ms.end(), 0.0) / done;
  // Previews come after steps preview_every, 2·preview_every, … short of the last step.
  int previews_left = 0;
  if (preview_every > 0) previews_left = (num_steps - 1) / preview_every - done / preview_every;
  const double mean_preview = previews > 1 ? (preview_ms - first_preview_ms) / (previews - 1) : 0.0;
  return mean_step * (num_steps - done) + mean_preview * previews_left;
}

}  // namespace svgear
