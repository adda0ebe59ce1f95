#pragma once
// The time a generation's denoising has left, for the progress line (EventSink's StepEvent).

#include <vector>

namespace svgear {

// One label per step of a run, equal for steps that cost alike: the same expert (the high-noise
// one before step `first_low_noise`, then the low-noise one), the same attention (dense before
// step `first_sparse`; num_steps for a dense run) and the same number of guidance passes (two
// while that expert's guidance is not 1).
std::vector<int> step_kinds(int num_steps, int first_low_noise, int first_sparse, bool high_noise_guided,
                            bool low_noise_guided);

// After the steps whose denoising times are `step_ms`, of the run whose steps are `step_kinds`:
// each step left at the mean of its kind's steps past the first once two have run, else at the
// mean of every step past its kind's first (of every step, while each step run was its kind's
// first), plus a preview decode (one after every `preview_every`-th step, none after the last) for
// each preview left, at the mean of the previews after the first.
// A kind's first step is cold: on a GPU the run's first pays the kernels' loading and the
// libraries' plans, and the first sparse step clusters from scratch (k-means's long init), so in a
// mean they made the estimate after a 50-step run's first steps minutes long, and a kind's mean
// of its first step alone would jump whenever a new kind of step begins. Likewise the first
// preview: Wan's fits its projection once (~26 s on a CPU).
// `preview_ms` sums the `previews` decodes so far, the first of which took `first_preview_ms`.
// Left out: the final decode, and Wan2.2-A14B's move of the low-noise expert onto the GPU at the
// switch with --idle-expert-on-cpu (~1 s from page-locked memory; the log times it).
double time_left_ms(const std::vector<double>& step_ms, const std::vector<int>& step_kinds, int preview_every,
                    int previews, double first_preview_ms, double preview_ms);

// The time left `since_ms` after the step event that estimated `eta_ms` for its `steps_left` steps,
// counted down between events. A step running past its share (the first sparse step, a loaded
// machine) would take the count to 0 with steps left; from then on it is at least the steps after
// the running one, each at an even share of `eta_ms` (`at_least`; 0 on the last step: unknown).
struct TimeLeftNow {
  double ms = 0.0;
  bool at_least = false;
};
TimeLeftNow time_left_now(double eta_ms, double since_ms, int steps_left);

}  // namespace svgear
