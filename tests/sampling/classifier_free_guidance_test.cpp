#include "core/sampling/classifier_free_guidance.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

TEST(ClassifierFreeGuidance, WanFormula) {
  at::Tensor cond = at::tensor({1.0, 2.0, -3.0}, at::kDouble);
  at::Tensor uncond = at::tensor({0.5, 4.0, -1.0}, at::kDouble);
  // uncond + 5 * (cond - uncond)
  at::Tensor expected = at::tensor({3.0, -6.0, -11.0}, at::kDouble);
  EXPECT_TRUE(test::tensors_close(apply_guidance(cond, uncond, 5.0), expected, 1e-15));
}

TEST(ClassifierFreeGuidance, ScaleOneIsCondScaleZeroIsUncond) {
  at::manual_seed(6);
  at::Tensor cond = at::randn({2, 3, 4});
  at::Tensor uncond = at::randn({2, 3, 4});
  EXPECT_TRUE(test::tensors_close(apply_guidance(cond, uncond, 1.0), cond, 1e-7));
  EXPECT_TRUE(at::equal(apply_guidance(cond, uncond, 0.0), uncond));
}

TEST(ClassifierFreeGuidance, KeepsDtype) {
  at::Tensor cond = at::ones({4}, at::kBFloat16);
  at::Tensor uncond = at::zeros({4}, at::kBFloat16);
  at::Tensor out = apply_guidance(cond, uncond, 5.0);
  EXPECT_EQ(out.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(out, at::full({4}, 5.0, at::kBFloat16)));
}

}  // namespace
}  // namespace svgear
