#include "core/sampling/flow_euler.h"

#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

// A velocity that depends on the sample nonlinearly, so the reference comparison means something.
double toy_velocity(double x, double sigma) { return x * (0.5 + sigma) + 0.2 * std::sin(3.0 * x); }

TEST(FlowEuler, RecoversCleanSampleOfLinearFlow) {
  at::manual_seed(1);
  at::Tensor x0 = at::randn({2, 4, 3, 5});
  at::Tensor noise = at::randn({2, 4, 3, 5});
  FlowEulerSampler sampler(8, 5.0);
  const auto& sigmas = sampler.schedule().sigmas;

  at::Tensor x = (1.0 - sigmas[0]) * x0 + sigmas[0] * noise;
  for (int i = 0; i < sampler.num_steps(); ++i) {
    x = sampler.step(noise - x0, i, x);
    at::Tensor on_path = (1.0 - sigmas[i + 1]) * x0 + sigmas[i + 1] * noise;
    EXPECT_TRUE(test::tensors_close(x, on_path, 1e-6)) << "step " << i;
  }
  EXPECT_TRUE(test::tensors_close(x, x0, 1e-6));
}

TEST(FlowEuler, MatchesDoubleReference) {
  at::manual_seed(2);
  at::Tensor start = at::randn({3, 7}, at::kDouble);
  FlowEulerSampler sampler(5, 3.0);
  const auto& sigmas = sampler.schedule().sigmas;

  std::vector<double> ref(start.data_ptr<double>(), start.data_ptr<double>() + start.numel());
  at::Tensor x = start.clone();
  at::Tensor x32 = start.to(at::kFloat);
  for (int i = 0; i < sampler.num_steps(); ++i) {
    for (double& r : ref) r += (sigmas[i + 1] - sigmas[i]) * toy_velocity(r, sigmas[i]);
    auto velocity = [&](const at::Tensor& t) {
      return t * (0.5 + sigmas[i]) + 0.2 * at::sin(3.0 * t);
    };
    x = sampler.step(velocity(x), i, x);
    x32 = sampler.step(velocity(x32), i, x32);
    at::Tensor expected = at::tensor(ref, at::kDouble).view(start.sizes());
    EXPECT_TRUE(test::tensors_close(x, expected, 1e-13)) << "step " << i;
    EXPECT_TRUE(test::tensors_close(x32, expected, 1e-5)) << "step " << i;
    EXPECT_EQ(x32.scalar_type(), at::kFloat);
  }
}

TEST(FlowEuler, RejectsStepOutsideSchedule) {
  FlowEulerSampler sampler(3, 5.0);
  at::Tensor x = at::zeros({2});
  EXPECT_THROW(sampler.step(x, 3, x), std::out_of_range);
  EXPECT_THROW(sampler.step(x, -1, x), std::out_of_range);
}

}  // namespace
}  // namespace svgear
