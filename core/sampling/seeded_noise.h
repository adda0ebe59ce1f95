#pragma once
// Seeded starting noise that does not depend on the device: the draw always happens on the CPU in
// float32 with a generator seeded explicitly, and only then moves to the target device and dtype.
// The same seed therefore gives the same video on a laptop and on a GPU server.

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

namespace svgear {

// The largest seed: the CPU generator (mt19937) reads only a seed's low 32 bits, so a larger seed
// would draw the noise of a smaller one, and two seeds would name one video.
constexpr uint64_t kMaxSeed = 0xffffffffu;

// Standard normal noise of `shape`, on options' device with options' (floating) dtype. `seed` is at
// most kMaxSeed (GenerationRequest::resolve refuses more).
at::Tensor seeded_noise(uint64_t seed, at::IntArrayRef shape, const at::TensorOptions& options);

}  // namespace svgear
