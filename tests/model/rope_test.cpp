#include "core/model/rope.h"

#include <cmath>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace svgear {
namespace {

TEST(Rope, AxisSplitMatchesUpstream) {
  // Wan 1.3B / 14B: head_dim 128 → 44 + 42 + 42 channels (22 / 21 / 21 pairs).
  RopeAxes a = rope_axes(128);
  EXPECT_EQ(a.frames, 44);
  EXPECT_EQ(a.height, 42);
  EXPECT_EQ(a.width, 42);
  RopeAxes b = rope_axes(64);
  EXPECT_EQ(b.frames, 24);
  EXPECT_EQ(b.height, 20);
  EXPECT_EQ(b.width, 20);
}

TEST(Rope, TableHoldsEachAxisAnglesInItsChannels) {
  // head_dim 12: 4 channels per axis, 2 pairs each with inverse frequencies 1 and 10000^(-1/2).
  const TokenGrid grid{2, 3, 4};
  RopeTable table = rope_table(12, grid, at::kCPU);
  ASSERT_EQ(table.rotation.sizes(), (std::vector<int64_t>{24, 6}));
  EXPECT_EQ(table.rotation.scalar_type(), at::kComplexFloat);
  const at::Tensor cos = at::real(table.rotation), sin = at::imag(table.rotation);
  // Token (f=1, h=2, w=3), frame-major.
  const int64_t token = 1 * 12 + 2 * 4 + 3;
  const double angles[6] = {1.0, 0.01, 2.0, 0.02, 3.0, 0.03};
  for (int j = 0; j < 6; ++j) {
    EXPECT_NEAR(cos[token][j].item<double>(), std::cos(angles[j]), 1e-7) << j;
    EXPECT_NEAR(sin[token][j].item<double>(), std::sin(angles[j]), 1e-7) << j;
  }
  // Token 0 is not rotated.
  EXPECT_TRUE(at::allclose(cos[0], at::ones({6})));
  EXPECT_TRUE(at::allclose(sin[0], at::zeros({6})));
}

TEST(Rope, ApplyRotatesAdjacentPairs) {
  const TokenGrid grid{2, 3, 4};
  RopeTable table = rope_table(12, grid, at::kCPU);
  at::Tensor x = at::randn({2, 24, 3, 12});
  at::Tensor y = rope_apply(x, table);
  ASSERT_EQ(y.sizes(), x.sizes());
  // Channels (2j, 2j+1) of token n rotate by its angle j: check one by hand.
  const int64_t n = 23, head = 1, j = 4;
  const double c = at::real(table.rotation)[n][j].item<double>();
  const double s = at::imag(table.rotation)[n][j].item<double>();
  const double x0 = x[1][n][head][2 * j].item<double>();
  const double x1 = x[1][n][head][2 * j + 1].item<double>();
  EXPECT_NEAR(y[1][n][head][2 * j].item<double>(), x0 * c - x1 * s, 1e-6);
  EXPECT_NEAR(y[1][n][head][2 * j + 1].item<double>(), x0 * s + x1 * c, 1e-6);
  // Rotations keep norms.
  EXPECT_TRUE(at::allclose(y.norm(2, -1), x.norm(2, -1), 1e-5, 1e-5));
}

}  // namespace
}  // namespace svgear
