#include "core/pipeline/time_left.h"

#include <cstddef>
#include <utility>

namespace svgear {
namespace {

// A mean of step times that leaves the first out once there are two.
struct WarmMean {
  double sum = 0.0, first = 0.0;
  int count = 0;
  void add(double ms) {
    if (count == 0) first = ms;
    sum += ms;
    ++count;
  }
  double mean() const { return count > 1 ? (sum - first) / (count - 1) : sum; }
};

}  // namespace

double time_left_ms(const std::vector<double>& step_ms, const std::vector<int>& step_kinds, int preview_every,
                    int previews, double first_preview_ms, double preview_ms) {
  const int num_steps = int(step_kinds.size());
  const int done = int(step_ms.size());
  if (done == 0 || done >= num_steps) return 0.0;
  WarmMean every;
  std::vector<std::pair<int, WarmMean>> kinds;  // few kinds: a list beats a map
  const auto of_kind = [&](int kind) -> WarmMean* {
    for (auto& [k, mean] : kinds) {
      if (k == kind) return &mean;
    }
    return nullptr;
  };
  for (int i = 0; i < done; ++i) {
    every.add(step_ms[size_t(i)]);
    WarmMean* mean = of_kind(step_kinds[size_t(i)]);
    if (!mean) mean = &kinds.emplace_back(step_kinds[size_t(i)], WarmMean{}).second;
    mean->add(step_ms[size_t(i)]);
  }
  double left = 0.0;
  for (int i = done; i < num_steps; ++i) {
    const WarmMean* mean = of_kind(step_kinds[size_t(i)]);
    left += (mean ? *mean : every).mean();
  }
  // Previews come after steps preview_every, 2·preview_every, … short of the last step.
  int previews_left = 0;
  if (preview_every > 0) previews_left = (num_steps - 1) / preview_every - done / preview_every;
  const double mean_preview = previews > 1 ? (preview_ms - first_preview_ms) / (previews - 1) : 0.0;
  return left + mean_preview * previews_left;
}

}  // namespace svgear
