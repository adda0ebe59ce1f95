#pragma once
// FlowEulerSampler: first-order flow-matching sampler, x_next = x + (sigma_next - sigma) * v.
// Stateless, so steps may run in any order.

#include "core/sampling/sampler.h"

namespace svgear {

class FlowEulerSampler final : public Sampler {
 public:
  FlowEulerSampler(int num_steps, double shift);
  at::Tensor step(const at::Tensor& model_output, int step_index,
                  const at::Tensor& sample) override;
};

}  // namespace svgear
