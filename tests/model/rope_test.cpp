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

TEST(Rope, CacheBuildsATableOncePerGrid) {
  RopeTableCache cache;
  const TokenGrid grid{2, 3, 4}, other{1, 3, 4};
  const RopeTable first = cache.get(12, grid, at::kCPU);
  EXPECT_TRUE(at::equal(first.rotation, rope_table(12, grid, at::kCPU).rotation));
  // The same key: the same tensor, not a rebuilt one.
  EXPECT_EQ(cache.get(12, grid, at::kCPU).rotation.data_ptr(), first.rotation.data_ptr());
  // Another grid or head dim: that one's table.
  const RopeTable smaller = cache.get(12, other, at::kCPU);
  ASSERT_EQ(smaller.rotation.size(0), 12);
  EXPECT_TRUE(at::equal(smaller.rotation, rope_table(12, other, at::kCPU).rotation));
  EXPECT_EQ(cache.get(24, other, at::kCPU).rotation.size(1), 12);
}

}  // namespace
}  // namespace svgear
