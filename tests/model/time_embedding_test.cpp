#include "core/model/time_embedding.h"

#include <cmath>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace svgear {
namespace {

TEST(TimeEmbedding, CosFirstThenSin) {
  // dim 8: frequencies 10000^(-i/4) = 1, 0.1, 0.01, 0.001.
  at::Tensor e = sinusoidal_embedding(at::tensor({0.0f, 500.0f}), 8);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{2, 8}));
  EXPECT_EQ(e.scalar_type(), at::kFloat);
  const double freqs[4] = {1.0, 0.1, 0.01, 0.001};
  for (int i = 0; i < 4; ++i) {
    EXPECT_FLOAT_EQ(e[0][i].item<float>(), 1.0f);
    EXPECT_FLOAT_EQ(e[0][4 + i].item<float>(), 0.0f);
    EXPECT_NEAR(e[1][i].item<double>(), std::cos(500.0 * freqs[i]), 1e-6) << i;
    EXPECT_NEAR(e[1][4 + i].item<double>(), std::sin(500.0 * freqs[i]), 1e-6) << i;
  }
}

TEST(TimeEmbedding, LargeArgumentsKeepFloat64Accuracy) {
  // t · f_1 rounded to float32 would move the angle by ~4e-6 at t = 999.5; float64 does not.
  at::Tensor e = sinusoidal_embedding(at::tensor({999.5f}), 256);
  const double angle = 999.5 * std::pow(10000.0, -1.0 / 128.0);
  EXPECT_NEAR(e[0][1].item<double>(), std::cos(angle), 1e-7);
  EXPECT_NEAR(e[0][129].item<double>(), std::sin(angle), 1e-7);
}

}  // namespace
}  // namespace svgear
