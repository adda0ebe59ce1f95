#pragma once
// The time a generation's denoising has left, for the progress line (EventSink's StepEvent).

#include <vector>

namespace svgear {

// After the steps whose denoising times are `step_ms`, of the run whose steps are `step_kinds`
// (one label per step; steps of one label cost alike: the generator labels each by its expert,
// dense or sparse attention, and one guidance pass or two): each step left at the mean of the
// steps of its kind so far, or of every step while none of its kind has run, plus a preview decode
// (one after every `preview_every`-th step, none after the last) for each preview left, at the
// mean of the previews after the first.
// A kind's first step leaves its mean once a second has run: on a GPU the run's first step pays
// the kernels' loading and the libraries' plans, and the first sparse step clusters from scratch
// (k-means's long init), so after a 50-step run's first steps a mean with them was minutes long.
// Likewise the first preview: Wan's fits its projection once (~26 s on a CPU).
// `preview_ms` sums the `previews` decodes so far, the first of which took `first_preview_ms`.
// Left out: the final decode, and Wan2.2-A14B's move of the low-noise expert onto the GPU at the
// switch with --idle-expert-on-cpu (~1 s from page-locked memory; the log times it).
double time_left_ms(const std::vector<double>& step_ms, const std::vector<int>& step_kinds, int preview_every,
                    int previews, double first_preview_ms, double preview_ms);

}  // namespace svgear
