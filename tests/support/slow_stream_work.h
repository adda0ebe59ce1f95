#pragma once
// For tests of ops that run part of their work on a side stream: inputs made late on the current
// stream, so that a missing fork (the side stream reads them unwritten) or a missing join (the
// caller reads the op's results unfinished) changes what the test sees.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace svgear::test {

// A zero of `dtype` on `device` that the current stream computes only after ~1 TFLOP of matrix
// products on a GPU (a trivial product on the CPU): `x + zero` is x, written behind that work.
at::Tensor zero_after_slow_work(c10::Device device, c10::ScalarType dtype);

}  // namespace svgear::test
