#include "core/sampling/flow_euler.h"

#include <ATen/ATen.h>

namespace svgear {

FlowEulerSampler::FlowEulerSampler(int num_steps, double shift)
    : Sampler(make_flow_schedule(num_steps, shift)) {}

at::Tensor FlowEulerSampler::step(const at::Tensor& model_output, int step_index,
                                  const at::Tensor& sample) {
  check_step_index(step_index);
  double dt = sigma(step_index + 1) - sigma(step_index);
  return sample + dt * model_output.to(sample.scalar_type());
}

}  // namespace svgear
