#pragma once
// Seeded starting noise, drawn in float32 with a generator seeded explicitly (never the global one),
// then cast to the target dtype. By default the draw happens on the CPU and moves to the target
// device, so the same seed gives the same video on a laptop and on a GPU server.

#include <cstdint>
#include <optional>
#include <string_view>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

namespace svgear {

// The largest seed: the CPU generator (mt19937) reads only a seed's low 32 bits, so a larger seed
// would draw the noise of a smaller one, and two seeds would name one video.
constexpr uint64_t kMaxSeed = 0xffffffffu;

// Where the noise is drawn.
//   Cpu:    on the CPU (mt19937), then moved: one video per seed on every device.
//   Device: on the target device with a fresh generator of its kind seeded with the seed, as Wan's
//           generate.py draws it (torch.randn with torch.Generator(device).manual_seed(seed)): on
//           a GPU, upstream's noise for the seed. CUDA's Philox numbers depend on how the kernel is
//           launched, so another GPU model or PyTorch version may draw others. On the CPU it is Cpu.
enum class NoiseSource { Cpu, Device };

const char* noise_source_name(NoiseSource source);  // "cpu", "device"
std::optional<NoiseSource> noise_source_from_name(std::string_view name);

// Standard normal noise of `shape`, on options' device with options' (floating) dtype. `seed` is at
// most kMaxSeed (GenerationRequest::resolve refuses more).
at::Tensor seeded_noise(uint64_t seed, at::IntArrayRef shape, const at::TensorOptions& options,
                        NoiseSource source = NoiseSource::Cpu);

}  // namespace svgear
