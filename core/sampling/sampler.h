#pragma once
// Sampler: advances a flow-matching latent from noise (sigma ~1) to a clean video (sigma 0), one
// model evaluation per step. The model predicts the velocity v = noise - x0 of the linear path
// x_sigma = (1 - sigma) * x0 + sigma * noise.
//
//   auto sampler = make_sampler(SamplerKind::UniPC, 50, 5.0);
//   for (int i = 0; i < sampler->num_steps(); ++i) {
//     at::Tensor v = model(x, sampler->schedule().timesteps[i]);
//     x = sampler->step(v, i, x);
//   }
//
// Multistep samplers keep a history: steps run in order from 0; step 0 starts a new trajectory.

#include <memory>
#include <string_view>
#include <utility>

#include <ATen/core/Tensor.h>

#include "core/sampling/flow_schedule.h"

namespace svgear {

enum class SamplerKind { Unset, Euler, UniPC };

const char* sampler_kind_name(SamplerKind kind);       // "euler", "unipc"
SamplerKind parse_sampler_kind(std::string_view name);  // throws UserError listing the choices

class Sampler {
 public:
  virtual ~Sampler() = default;

  const FlowSchedule& schedule() const { return schedule_; }
  int num_steps() const { return static_cast<int>(schedule_.timesteps.size()); }

  // model_output: velocity predicted at step `step_index` for `sample`; returns the next sample.
  virtual at::Tensor step(const at::Tensor& model_output, int step_index,
                          const at::Tensor& sample) = 0;

  // Clean-video estimate for previews: sample - sigma * model_output.
  at::Tensor predict_x0(const at::Tensor& model_output, int step_index,
                        const at::Tensor& sample) const;

 protected:
  explicit Sampler(FlowSchedule schedule) : schedule_(std::move(schedule)) {}
  // Sigma at schedule position `index` (0..num_steps); throws std::out_of_range past the end.
  double sigma(int index) const { return schedule_.sigmas.at(index); }
  // Throws std::out_of_range unless 0 <= step_index < num_steps.
  void check_step_index(int step_index) const;

 private:
  FlowSchedule schedule_;
};

// Throws UserError for bad steps / shift, and for SamplerKind::Unset.
std::unique_ptr<Sampler> make_sampler(SamplerKind kind, int num_steps, double shift);

}  // namespace svgear
