#include "core/sampling/seeded_noise.h"

#include <cstdlib>
#include <fstream>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace svgear {
namespace {

TEST(SeededNoise, SameSeedSameNoise) {
  at::Tensor a = seeded_noise(42, {2, 16, 3, 8, 12}, at::kFloat);
  at::Tensor b = seeded_noise(42, {2, 16, 3, 8, 12}, at::kFloat);
  EXPECT_TRUE(at::equal(a, b));
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 16, 3, 8, 12}));
}

TEST(SeededNoise, DifferentSeedsDiffer) {
  at::Tensor a = seeded_noise(1, {1000}, at::kFloat);
  at::Tensor b = seeded_noise(2, {1000}, at::kFloat);
  EXPECT_FALSE(at::equal(a, b));
}

// The CPU generator reads a seed's low 32 bits: a larger seed would draw a smaller one's noise
// without a word, so it is refused (GenerationRequest::resolve names the seed to use instead).
TEST(SeededNoise, RefusesASeedPastThirtyTwoBits) {
  EXPECT_FALSE(at::equal(seeded_noise(kMaxSeed, {64}, at::kFloat), seeded_noise(0, {64}, at::kFloat)));
  EXPECT_THROW(seeded_noise(kMaxSeed + 2, {64}, at::kFloat), c10::Error);
}

TEST(SeededNoise, IgnoresGlobalSeed) {
  at::manual_seed(7);
  at::Tensor a = seeded_noise(9, {64}, at::kFloat);
  at::manual_seed(8);
  at::Tensor b = seeded_noise(9, {64}, at::kFloat);
  EXPECT_TRUE(at::equal(a, b));
}

TEST(SeededNoise, IsStandardNormal) {
  at::Tensor noise = seeded_noise(123, {1 << 20}, at::kFloat);
  EXPECT_NEAR(noise.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(noise.std().item<double>(), 1.0, 0.01);
}

TEST(SeededNoise, OtherDtypesAreTheFloat32DrawCast) {
  at::Tensor f32 = seeded_noise(5, {257}, at::kFloat);
  at::Tensor bf16 = seeded_noise(5, {257}, at::kBFloat16);
  at::Tensor f64 = seeded_noise(5, {257}, at::kDouble);
  EXPECT_EQ(bf16.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(bf16, f32.to(at::kBFloat16)));
  EXPECT_TRUE(at::equal(f64, f32.to(at::kDouble)));
}

TEST(SeededNoise, CudaMatchesCpuBitForBit) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::Tensor cpu = seeded_noise(2024, {16, 21, 60, 104}, at::kFloat);
  at::Tensor cuda = seeded_noise(2024, {16, 21, 60, 104}, at::TensorOptions().device(at::kCUDA));
  ASSERT_TRUE(cuda.is_cuda());
  EXPECT_TRUE(at::equal(cpu, cuda.cpu()));
  at::Tensor cuda_bf16 = seeded_noise(2024, {16, 21, 60, 104},
                                      at::TensorOptions().device(at::kCUDA).dtype(at::kBFloat16));
  EXPECT_TRUE(at::equal(cpu.to(at::kBFloat16), cuda_bf16.cpu()));
}

TEST(SeededNoise, TheDevicesDrawOnTheCpuIsTheCpuDraw) {
  EXPECT_TRUE(at::equal(seeded_noise(77, {4, 5, 6}, at::kFloat, NoiseSource::Device),
                        seeded_noise(77, {4, 5, 6}, at::kFloat, NoiseSource::Cpu)));
  EXPECT_EQ(noise_source_from_name(noise_source_name(NoiseSource::Device)), NoiseSource::Device);
  EXPECT_EQ(noise_source_from_name(noise_source_name(NoiseSource::Cpu)), NoiseSource::Cpu);
  EXPECT_FALSE(noise_source_from_name("gpu").has_value());
}

// The GPU's own draw, as Wan's generate.py makes it: a fresh CUDA generator seeded with the seed
// (torch.Generator("cuda").manual_seed(seed), offset 0), so the draw does not depend on what ran
// before, and the global generator is left as it was. With SVGEAR_NOISE_DUMP set it writes the
// draw of seed 42 at Wan-1.3B's latent shape there as raw float32, for a comparison with PyTorch's
// own torch.randn on the same GPU (packaging/gpu/noise-check.py; docs/wan.md).
TEST(SeededNoise, CudaDeviceDrawIsAFreshCudaGenerators) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::TensorOptions cuda = at::TensorOptions().device(at::kCUDA);
  const std::vector<int64_t> shape = {1, 16, 21, 60, 104};
  at::manual_seed(5);
  const at::Tensor expected_global = at::randn({64}, cuda);
  at::manual_seed(5);
  const at::Tensor a = seeded_noise(42, shape, cuda, NoiseSource::Device);
  EXPECT_TRUE(at::equal(at::randn({64}, cuda), expected_global)) << "the global CUDA generator moved";
  at::randn({1000}, cuda);  // whatever ran before
  const at::Tensor b = seeded_noise(42, shape, cuda, NoiseSource::Device);
  ASSERT_TRUE(a.is_cuda());
  EXPECT_TRUE(at::equal(a, b));
  EXPECT_FALSE(at::equal(a.cpu(), seeded_noise(42, shape, at::kFloat)));
  EXPECT_FALSE(at::equal(a, seeded_noise(43, shape, cuda, NoiseSource::Device)));
  EXPECT_NEAR(a.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(a.std().item<double>(), 1.0, 0.01);
  if (const char* dump = std::getenv("SVGEAR_NOISE_DUMP")) {
    const at::Tensor host = a.cpu().contiguous();
    std::ofstream out(dump, std::ios::binary);
    out.write(reinterpret_cast<const char*>(host.data_ptr<float>()), std::streamsize(host.numel() * sizeof(float)));
    ASSERT_TRUE(out.good());
  }
}

}  // namespace
}  // namespace svgear
