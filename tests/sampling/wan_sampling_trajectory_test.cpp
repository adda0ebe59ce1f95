// The whole Wan sampling loop on the tiny DiT against upstream's trajectory: schedule, guidance,
// UniPC predictor and corrector together, every step's latent checked.

#include <fstream>
#include <sstream>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/attention/dense_backend.h"
#include "core/model/wan_dit.h"
#include "core/sampling/classifier_free_guidance.h"
#include "core/sampling/flow_unipc.h"
#include "core/weights/safetensors_file.h"
#include "tests/support/tensor_compare.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

TEST(WanSamplingTrajectory, MatchesUpstreamEveryStep) {
  std::ifstream config_file(test::testvector("wan/wan_dit_tiny.json"));
  WanConfig config = WanConfig::from_json(nlohmann::json::parse(config_file));
  auto weights = SafetensorsFile::open(test::testvector("wan/wan_dit_tiny.weights.safetensors"));
  WanDiT dit(config, WanWeights::load(config, {weights}));
  auto vectors = SafetensorsFile::open(test::testvector("wan/wan_sampling_tiny.safetensors"));

  constexpr int kSteps = 6;
  constexpr double kShift = 5.0;
  constexpr double kGuideScale = 5.0;
  FlowUniPCSampler sampler(kSteps, kShift);
  DenseBackend dense;
  at::Tensor context = vectors->load("context").unsqueeze(0);
  at::Tensor context_null = vectors->load("context_null").unsqueeze(0);
  at::Tensor latent = vectors->load("noise").unsqueeze(0);

  for (int i = 0; i < kSteps; ++i) {
    at::Tensor t = at::full({1}, sampler.schedule().timesteps[i], at::kFloat);
    DiTForward call{.attention = &dense, .step = i, .num_steps = kSteps};
    call.branch = CfgBranch::Cond;
    at::Tensor cond = dit.forward(latent, t, context, call);
    call.branch = CfgBranch::Uncond;
    at::Tensor uncond = dit.forward(latent, t, context_null, call);
    latent = sampler.step(apply_guidance(cond, uncond, kGuideScale), i, latent);

    at::Tensor expected = vectors->load("latent_after_step" + std::to_string(i)).unsqueeze(0);
    std::ostringstream error;
    error << std::scientific << test::relative_l2(latent, expected);
    RecordProperty("relative_l2_step" + std::to_string(i), error.str());
    EXPECT_TRUE(test::tensors_close(latent, expected, 1e-4)) << "after step " << i;
  }
}

}  // namespace
}  // namespace svgear
