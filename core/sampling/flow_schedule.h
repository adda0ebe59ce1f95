#pragma once
// FlowSchedule: the noise levels of a flow-matching sampler, as Wan 2.1 builds them for its
// FlowUniPCMultistepScheduler (set_timesteps with a shift and a final sigma of 0).

#include <vector>

namespace svgear {

struct FlowSchedule {
  std::vector<double> sigmas;     // num_steps + 1 values, falling from ~1 to a final 0
  std::vector<double> timesteps;  // num_steps values: the model's timestep input, whole numbers
};

// Throws UserError when num_steps <= 0 or shift is not a positive finite number.
FlowSchedule make_flow_schedule(int num_steps, double shift);

}  // namespace svgear
