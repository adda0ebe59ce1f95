#pragma once
// FlowUniPCSampler: Wan 2.1's FlowUniPCMultistepScheduler as Wan calls it — UniPC of order 2,
// B(h) = e^h - 1 ("bh2"), updates on the x0 prediction, the UniC corrector on every step after
// the first, first-order warm-up on step 0 and first-order final step (lower_order_final).
//
// Coefficients are computed in float64; tensor updates run in the sample's dtype.

#include <vector>

#include "core/sampling/sampler.h"

namespace svgear {

class FlowUniPCSampler final : public Sampler {
 public:
  FlowUniPCSampler(int num_steps, double shift);
  // Steps must run in order 0, 1, 2, ...; step 0 starts a new trajectory. Out of order throws
  // std::logic_error.
  at::Tensor step(const at::Tensor& model_output, int step_index,
                  const at::Tensor& sample) override;

 private:
  // log(alpha / sigma) with alpha = 1 - sigma, at schedule position `index`.
  double lambda(int index) const;
  // UniP: from `sample` at sigma(step_index) to sigma(step_index + 1).
  at::Tensor predict(const at::Tensor& sample, int step_index, int order) const;
  // UniC: redoes the previous step's update from `last_sample_` using `x0`, the clean estimate
  // at sigma(step_index) that the previous prediction led to.
  at::Tensor correct(const at::Tensor& x0, int step_index) const;

  int next_step_ = 0;
  std::vector<at::Tensor> x0_history_;  // clean estimates of the last steps, newest last
  at::Tensor last_sample_;              // the sample the previous prediction started from
  int last_order_ = 0;                  // the order of that prediction
};

}  // namespace svgear
