#include "core/sampling/flow_schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/user_error.h"
#include "core/weights/safetensors_file.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

TEST(FlowSchedule, MatchesWanReference) {
  auto file = SafetensorsFile::open(test::testvector("wan/wan_sampling_tiny.safetensors"));
  at::Tensor timesteps = file->load("timesteps").to(at::kDouble);
  at::Tensor sigmas = file->load("sigmas").to(at::kDouble);
  FlowSchedule schedule = make_flow_schedule(6, 5.0);

  ASSERT_EQ(int64_t(schedule.timesteps.size()), timesteps.numel());
  ASSERT_EQ(int64_t(schedule.sigmas.size()), sigmas.numel());
  double worst = 0.0;
  for (size_t i = 0; i < schedule.timesteps.size(); ++i) {
    double expected = timesteps[i].item<double>();
    EXPECT_NEAR(schedule.timesteps[i], expected, 1e-4 * expected) << "timestep " << i;
    worst = std::max(worst, std::abs(schedule.timesteps[i] - expected));
  }
  for (size_t i = 0; i < schedule.sigmas.size(); ++i) {
    double expected = sigmas[i].item<double>();
    EXPECT_NEAR(schedule.sigmas[i], expected, 1e-4) << "sigma " << i;
    worst = std::max(worst, std::abs(schedule.sigmas[i] - expected));
  }
  std::ostringstream worst_text;
  worst_text << std::scientific << worst;
  RecordProperty("max_abs_error", worst_text.str());
}

// The whole timestep lists of the two schedules the Wan models ship with, as upstream's
// FlowUniPCMultistepScheduler.set_timesteps computes them (numpy linspace, the shift, float32
// sigmas, int64 truncation): Wan2.2-A14B's 40 steps at shift 12, Wan 2.1's 50 at shift 5. One
// timestep off moves the DiT's time embedding, and at A14B the expert switch (t >= 875).
TEST(FlowSchedule, WanDefaultsGiveUpstreamsTimestepsExactly) {
  const std::vector<double> a14b = {999, 997, 995, 993, 990, 988, 985, 982, 979, 976, 972, 969, 965, 961,
                                    956, 952, 947, 941, 936, 929, 922, 915, 907, 898, 888, 877, 865, 852,
                                    837, 819, 799, 776, 749, 717, 678, 631, 571, 492, 386, 235};
  const std::vector<double> wan21 = {999, 995, 991, 987, 982, 978, 973, 968, 963, 957, 952, 946, 940,
                                     934, 927, 920, 913, 906, 898, 890, 882, 873, 863, 854, 843, 833,
                                     821, 809, 796, 783, 768, 753, 737, 720, 701, 681, 660, 636, 611,
                                     584, 555, 522, 487, 448, 405, 356, 302, 241, 172, 92};
  EXPECT_EQ(make_flow_schedule(40, 12.0).timesteps, a14b);
  EXPECT_EQ(make_flow_schedule(50, 5.0).timesteps, wan21);
}

TEST(FlowSchedule, UnshiftedIsLinearFromTrainingSigmaMax) {
  FlowSchedule schedule = make_flow_schedule(4, 1.0);
  ASSERT_EQ(schedule.sigmas.size(), 5u);
  ASSERT_EQ(schedule.timesteps.size(), 4u);
  const double sigma_max = double(0.999f);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(schedule.sigmas[i], sigma_max * (1.0 - i / 4.0), 1e-7);
  }
  EXPECT_EQ(schedule.sigmas.back(), 0.0);
  // Truncated like upstream's cast to int64: 999.0000129, 749.25, 499.5, 249.75.
  EXPECT_EQ(schedule.timesteps, (std::vector<double>{999, 749, 499, 249}));
}

TEST(FlowSchedule, ShiftRaisesEveryNoiseLevel) {
  FlowSchedule plain = make_flow_schedule(10, 1.0);
  FlowSchedule shifted = make_flow_schedule(10, 5.0);
  for (int i = 1; i < 10; ++i) {
    EXPECT_GT(shifted.sigmas[i], plain.sigmas[i]);
    EXPECT_LT(shifted.sigmas[i], shifted.sigmas[i - 1]);
  }
  EXPECT_EQ(shifted.sigmas.back(), 0.0);
}

TEST(FlowSchedule, RejectsBadArguments) {
  EXPECT_THROW(make_flow_schedule(0, 5.0), UserError);
  EXPECT_THROW(make_flow_schedule(-3, 5.0), UserError);
  EXPECT_THROW(make_flow_schedule(1001, 5.0), UserError);
  EXPECT_THROW(make_flow_schedule(10, 0.0), UserError);
  EXPECT_THROW(make_flow_schedule(10, -1.0), UserError);
  EXPECT_THROW(make_flow_schedule(10, std::nan("")), UserError);
  EXPECT_THROW(make_flow_schedule(10, 1e9), UserError);
  EXPECT_NO_THROW(make_flow_schedule(1000, 5.0));
}

}  // namespace
}  // namespace svgear
