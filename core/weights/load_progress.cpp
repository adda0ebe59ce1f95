#include "core/weights/load_progress.h"

#include <algorithm>

namespace svgear {

void LoadProgress::start_part(std::string part, int64_t total_bytes) {
  step_ = {std::move(part), 0, std::max<int64_t>(total_bytes, 0)};
  next_report_ = std::max<int64_t>(step_.total / 100, 1);
  in_part_ = true;
  report_(step_);
}

void LoadProgress::tensor_read(int64_t bytes) {
  if (!in_part_ || bytes <= 0) return;
  // Never past the total, whatever a loader reads twice.
  step_.done = std::min(step_.done + bytes, step_.total);
  if (step_.done < next_report_ || step_.done == step_.total) return;  // the end is end_part's
  next_report_ = step_.done + std::max<int64_t>(step_.total / 100, 1);
  report_(step_);
}

void LoadProgress::end_part() {
  if (!in_part_) return;
  in_part_ = false;
  step_.done = step_.total;
  report_(step_);
}

}  // namespace svgear
