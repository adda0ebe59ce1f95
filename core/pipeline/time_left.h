#pragma once
// The time a generation's denoising has left, for the progress line (EventSink's StepEvent).

#include <vector>

namespace svgear {

// After the steps whose denoising times are `step_ms` (of `num_steps`): the mean step for each
// step left, plus a preview decode (one after every `preview_every`-th step, none after the last)
// for each preview left, at the mean of the previews after the first. The first is left out of
// that mean: Wan's first preview fits its projection once (~26 s on a CPU), which, counted in a mean
// over the elapsed time, made a 50-step run's estimate after step 1 twenty minutes too long.
// `preview_ms` sums the `previews` decodes so far, the first of which took `first_preview_ms`.
// Left out: the final decode, and Wan2.2-A14B's move of the low-noise expert onto the GPU at the
// switch with --idle-expert-on-cpu (~1 s from page-locked memory; the log times it).
double time_left_ms(const std::vector<double>& step_ms, int num_steps, int preview_every, int previews,
                    double first_preview_ms, double preview_ms);

}  // namespace svgear
