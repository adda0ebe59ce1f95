#include "core/pipeline/time_left.h"

#include <cstddef>

namespace svgear {

std::vector<int> step_kinds(int num_steps, int first_low_noise, int first_sparse, bool high_noise_guided,
                            bool low_noise_guided) {
  std::vector<int> kinds(static_cast<size_t>(num_steps > 0 ? num_steps : 0));
  for (int i = 0; i < num_steps; ++i) {
    const bool low_noise = i >= first_low_noise;
    const bool guided = low_noise ? low_noise_guided : high_noise_guided;
    kinds[size_t(i)] = 4 * int(low_noise) + 2 * int(i >= first_sparse) + int(guided);
  }
  return kinds;
}

double time_left_ms(const std::vector<double>& step_ms, const std::vector<int>& step_kinds, int preview_every,
                    int previews, double first_preview_ms, double preview_ms) {
  const int num_steps = int(step_kinds.size());
  const int done = int(step_ms.size());
  if (done == 0 || done >= num_steps) return 0.0;
  struct Kind {
    int kind = 0, count = 0;
    double warm_sum = 0.0;  // past the kind's first step
  };
  std::vector<Kind> kinds;  // few: a list beats a map
  const auto find = [&](int kind) -> Kind* {
    for (Kind& k : kinds) {
      if (k.kind == kind) return &k;
    }
    return nullptr;
  };
  double all_sum = 0.0, warm_sum = 0.0;
  int warm_count = 0;
  for (int i = 0; i < done; ++i) {
    const double ms = step_ms[size_t(i)];
    Kind* k = find(step_kinds[size_t(i)]);
    if (!k) k = &kinds.emplace_back(Kind{step_kinds[size_t(i)]});
    if (k->count++ > 0) {
      k->warm_sum += ms;
      warm_sum += ms;
      ++warm_count;
    }
    all_sum += ms;
  }
  const double every = warm_count > 0 ? warm_sum / warm_count : all_sum / done;
  double left = 0.0;
  for (int i = done; i < num_steps; ++i) {
    const Kind* k = find(step_kinds[size_t(i)]);
    left += k && k->count > 1 ? k->warm_sum / (k->count - 1) : every;
  }
  // Previews come after steps preview_every, 2·preview_every, … short of the last step.
  int previews_left = 0;
  if (preview_every > 0) previews_left = (num_steps - 1) / preview_every - done / preview_every;
  const double mean_preview = previews > 1 ? (preview_ms - first_preview_ms) / (previews - 1) : 0.0;
  return left + mean_preview * previews_left;
}

TimeLeftNow time_left_now(double eta_ms, double since_ms, int steps_left) {
  const double after_running = steps_left > 0 ? eta_ms * (steps_left - 1) / steps_left : 0.0;
  if (eta_ms - since_ms > after_running) return {eta_ms - since_ms, false};
  return {after_running, true};
}

}  // namespace svgear
