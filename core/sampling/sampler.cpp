#include "core/sampling/sampler.h"

#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "core/sampling/flow_euler.h"
#include "core/sampling/flow_unipc.h"
#include "core/user_error.h"

namespace svgear {

const char* sampler_kind_name(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::Euler: return "euler";
    case SamplerKind::UniPC: return "unipc";
    case SamplerKind::Unset: break;
  }
  return "unset";
}

SamplerKind parse_sampler_kind(std::string_view name) {
  if (name == "euler") return SamplerKind::Euler;
  if (name == "unipc") return SamplerKind::UniPC;
  throw UserError("unknown sampler '" + std::string(name) + "' (choose euler or unipc)");
}

at::Tensor Sampler::predict_x0(const at::Tensor& model_output, int step_index,
                               const at::Tensor& sample) const {
  check_step_index(step_index);
  return sample - sigma(step_index) * model_output.to(sample.scalar_type());
}

void Sampler::check_step_index(int step_index) const {
  if (step_index < 0 || step_index >= num_steps()) {
    throw std::out_of_range("sampler step " + std::to_string(step_index) + " is outside 0.." +
                            std::to_string(num_steps() - 1));
  }
}

std::unique_ptr<Sampler> make_sampler(SamplerKind kind, int num_steps, double shift) {
  switch (kind) {
    case SamplerKind::Euler: return std::make_unique<FlowEulerSampler>(num_steps, shift);
    case SamplerKind::UniPC: return std::make_unique<FlowUniPCSampler>(num_steps, shift);
    case SamplerKind::Unset: break;
  }
  throw UserError("no sampler chosen (choose euler or unipc)");
}

}  // namespace svgear
