#include "core/sampling/sampler.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/sampling/flow_euler.h"
#include "core/sampling/flow_unipc.h"
#include "core/user_error.h"
#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

TEST(SamplerKind, NamesRoundTrip) {
  for (SamplerKind kind : {SamplerKind::Euler, SamplerKind::UniPC}) {
    EXPECT_EQ(parse_sampler_kind(sampler_kind_name(kind)), kind);
  }
  EXPECT_STREQ(sampler_kind_name(SamplerKind::Euler), "euler");
  EXPECT_STREQ(sampler_kind_name(SamplerKind::UniPC), "unipc");
}

TEST(SamplerKind, UnknownNameListsChoices) {
  try {
    parse_sampler_kind("ddim");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("ddim"), std::string::npos);
    EXPECT_NE(message.find("euler"), std::string::npos);
    EXPECT_NE(message.find("unipc"), std::string::npos);
  }
}

TEST(MakeSampler, BuildsEachKind) {
  auto euler = make_sampler(SamplerKind::Euler, 10, 3.0);
  auto unipc = make_sampler(SamplerKind::UniPC, 12, 5.0);
  EXPECT_NE(dynamic_cast<FlowEulerSampler*>(euler.get()), nullptr);
  EXPECT_NE(dynamic_cast<FlowUniPCSampler*>(unipc.get()), nullptr);
  EXPECT_EQ(euler->num_steps(), 10);
  EXPECT_EQ(unipc->num_steps(), 12);
  EXPECT_EQ(unipc->schedule().sigmas.size(), 13u);
}

TEST(MakeSampler, RejectsBadArguments) {
  EXPECT_THROW(make_sampler(SamplerKind::Unset, 10, 5.0), UserError);
  EXPECT_THROW(make_sampler(SamplerKind::UniPC, 0, 5.0), UserError);
  EXPECT_THROW(make_sampler(SamplerKind::Euler, 10, 0.0), UserError);
  EXPECT_THROW(make_sampler(SamplerKind::Euler, 10, -2.0), UserError);
}

TEST(Sampler, PredictX0RemovesScaledVelocity) {
  auto sampler = make_sampler(SamplerKind::UniPC, 5, 5.0);
  at::manual_seed(8);
  at::Tensor x = at::randn({3, 4});
  at::Tensor v = at::randn({3, 4});
  double sigma = sampler->schedule().sigmas[2];
  EXPECT_TRUE(test::tensors_close(sampler->predict_x0(v, 2, x), x - sigma * v, 1e-7));
  EXPECT_THROW(sampler->predict_x0(v, 5, x), std::out_of_range);
}

}  // namespace
}  // namespace svgear
