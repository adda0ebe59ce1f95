#include "tests/support/tensor_compare.h"

#include <cmath>
#include <limits>
#include <sstream>

#include <ATen/ATen.h>

namespace svgear::test {

double relative_l2(const at::Tensor& a, const at::Tensor& b) {
  at::Tensor a64 = a.detach().to(at::kCPU, at::kDouble);
  at::Tensor b64 = b.detach().to(at::kCPU, at::kDouble);
  if (at::isnan(a64).any().item<bool>() || at::isnan(b64).any().item<bool>()) {
    return std::numeric_limits<double>::infinity();
  }
  double diff = (a64 - b64).norm().item<double>();
  double ref = b64.norm().item<double>();
  return diff / std::max(ref, 1e-30);
}

::testing::AssertionResult tensors_close(const at::Tensor& actual, const at::Tensor& expected,
                                         double tolerance) {
  if (actual.sizes() != expected.sizes()) {
    std::ostringstream os;
    os << "shape " << actual.sizes() << " != expected " << expected.sizes();
    return ::testing::AssertionFailure() << os.str();
  }
  double err = relative_l2(actual, expected);
  if (err <= tolerance) return ::testing::AssertionSuccess() << "relative L2 " << err;
  return ::testing::AssertionFailure() << "relative L2 error " << err << " > tolerance " << tolerance;
}

}  // namespace svgear::test
