#pragma once
// Normalised comparison of tensors: ||a - b|| / ||b||, the measure every reference test uses.

#include <string>

#include <ATen/core/Tensor.h>
#include <gtest/gtest.h>

namespace svgear::test {

// ||a - b||_2 / max(||b||_2, tiny), computed in float64 on the CPU. NaN anywhere gives +inf.
double relative_l2(const at::Tensor& a, const at::Tensor& b);

// Succeeds when shapes match and relative_l2(actual, expected) <= tolerance.
::testing::AssertionResult tensors_close(const at::Tensor& actual, const at::Tensor& expected,
                                         double tolerance);

}  // namespace svgear::test
