// The VAE on CUDA, float32 and bfloat16, against upstream's fp32 CPU video (Wan 2.1) or our own
// fp32 CPU decode (Wan 2.2, which has no upstream vectors); skipped without a GPU.

#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include "svgear/build_config.h"
#if SVGEAR_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

#include "core/decoder/latent_tiling.h"
#include "core/decoder/wan_vae_decoder.h"
#include "core/user_error.h"
#include "tests/decoder/tiny_wan22_vae.h"
#include "tests/decoder/tiny_wan_vae.h"
#include "tests/support/tensor_compare.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

#if SVGEAR_HAVE_CUDA
namespace allocator = c10::cuda::CUDACachingAllocator;
// The allocator's statistics over all pools.
constexpr auto kAll = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
#endif

constexpr double kFloat32Tolerance = 1e-4;
// bf16 weights and activations through ~40 convolutions. Not yet measured on a GPU; the same
// decode in bf16 on the CPU gives relative L2 0.020 (max abs 0.10), so 2.5× that is allowed.
constexpr double kBFloat16Tolerance = 5e-2;
// The bf16 preview's 8-bit codes against the fp32 CPU preview's (relative L2). Not yet measured on
// a GPU; the tiny VAE in bf16 on the CPU (WanVae::to, fitted and applied there) gives 0.0035 (max
// abs 1 code), so about 2.9× that is allowed.
constexpr double kBFloat16PreviewTolerance = 1e-2;

at::Tensor decode_on_cuda(at::ScalarType dtype) {
  const auto decoder = WanVaeDecoder::open(test::tiny_wan_vae_path(), at::kCUDA, dtype);
  EXPECT_EQ(decoder->vae().dtype(), dtype);
  at::Tensor video = decoder->decode_tensor(test::tiny_wan_vae_io().z.to(at::kCUDA));
  EXPECT_TRUE(video.is_cuda());
  EXPECT_EQ(video.scalar_type(), at::kFloat);
  return video.cpu();
}

TEST(WanVaeCuda, Float32MatchesUpstream) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  // cuDNN convolutions default to TF32; with it off they are true fp32.
  const bool tf32 = at::globalContext().allowTF32CuDNN();
  at::globalContext().setAllowTF32CuDNN(false);
  const at::Tensor video = decode_on_cuda(at::kFloat);
  at::globalContext().setAllowTF32CuDNN(tf32);
  const at::Tensor expected = test::tiny_wan_vae_io().video;
  std::cout << "[ measured ] CUDA fp32 video: relative L2 " << test::relative_l2(video, expected)
            << ", max abs " << (video - expected).abs().max().item<double>() << "\n";
  EXPECT_TRUE(test::tensors_close(video, expected, kFloat32Tolerance));
}

TEST(WanVaeCuda, BFloat16MatchesUpstreamFloat32) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Tensor video = decode_on_cuda(at::kBFloat16);
  const at::Tensor expected = test::tiny_wan_vae_io().video;
  const double err = test::relative_l2(video, expected);
  std::cout << "[ measured ] CUDA bf16 video: relative L2 " << err << ", max abs "
            << (video - expected).abs().max().item<double>() << "\n";
  EXPECT_LE(err, kBFloat16Tolerance);
}

TEST(WanVaeCuda, Float16IsRefusedWithTheDtypesToUse) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  try {
    WanVaeDecoder::open(test::tiny_wan_vae_path(), at::kCUDA, at::kHalf);
    FAIL() << "fp16 accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("bf16 or fp32"), std::string::npos) << e.what();
  }
}

// A preview's 8-bit codes as float32 [frames * height * width * 3].
at::Tensor preview_codes(const Video& video) {
  return at::tensor(std::vector<float>(video.rgb.begin(), video.rgb.end()));
}

// The preview on the GPU is the CPU's preview() (its projection is fitted to the GPU decode, then
// applied there): in fp32 the same codes up to a rounding step, in bf16 within kBFloat16PreviewTolerance.
TEST(WanVaeCuda, PreviewRunsOnTheGpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Tensor z = test::tiny_wan_vae_io().z;
  const Video cpu = WanVaeDecoder::open(test::tiny_wan_vae_path(), at::kCPU, at::kFloat)->preview(z, 16.0);
  const at::Tensor expected = preview_codes(cpu);
  const bool tf32 = at::globalContext().allowTF32CuDNN();
  at::globalContext().setAllowTF32CuDNN(false);
  const Video fp32 = WanVaeDecoder::open(test::tiny_wan_vae_path(), at::kCUDA, at::kFloat)->preview(z.to(at::kCUDA), 16.0);
  at::globalContext().setAllowTF32CuDNN(tf32);
  const Video bf16 = WanVaeDecoder::open(test::tiny_wan_vae_path(), at::kCUDA, at::kBFloat16)->preview(z.to(at::kCUDA), 16.0);
  for (const Video* preview : {&fp32, &bf16}) {
    EXPECT_EQ(preview->frames, 9);
    EXPECT_EQ(preview->height, 32);
    EXPECT_EQ(preview->width, 48);
    ASSERT_EQ(preview->rgb.size(), cpu.rgb.size());
  }
  const double fp32_max = (preview_codes(fp32) - expected).abs().max().item<double>();
  const double bf16_err = test::relative_l2(preview_codes(bf16), expected);
  std::cout << "[ measured ] CUDA preview vs CPU: fp32 max abs " << fp32_max << " codes, bf16 relative L2 "
            << bf16_err << " (max abs " << (preview_codes(bf16) - expected).abs().max().item<double>() << ")\n";
  EXPECT_LE(fp32_max, 1.0);
  EXPECT_LE(bf16_err, kBFloat16PreviewTolerance);
}

// Not yet run on a GPU (written without device time); the tolerances are those of the 2.1 VAE.
TEST(WanVaeCuda, Wan22MatchesTheCpuInFloat32AndBFloat16) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const auto path = test::write_tiny_wan22_vae(test::scratch_dir("wan22_cuda"), at::kFloat);
  const at::Tensor latent = test::random_latent(48, 3, 2, 3, 5);
  const at::Tensor expected = test::tiny_wan22_vae().decode(latent);
  const bool tf32 = at::globalContext().allowTF32CuDNN();
  at::globalContext().setAllowTF32CuDNN(false);
  const at::Tensor fp32 =
      WanVaeDecoder::open(path, at::kCUDA, at::kFloat)->decode_tensor(latent.to(at::kCUDA)).cpu();
  at::globalContext().setAllowTF32CuDNN(tf32);
  const at::Tensor bf16 =
      WanVaeDecoder::open(path, at::kCUDA, at::kBFloat16)->decode_tensor(latent.to(at::kCUDA)).cpu();
  std::cout << "[ measured ] CUDA 2.2 VAE vs CPU: fp32 relative L2 " << test::relative_l2(fp32, expected)
            << ", bf16 " << test::relative_l2(bf16, expected) << "\n";
  EXPECT_TRUE(test::tensors_close(fp32, expected, kFloat32Tolerance));
  EXPECT_LE(test::relative_l2(bf16, expected), kBFloat16Tolerance);
}

// On a GPU the final decode covers whole frames, as upstream's does, where the CPU tiles: at a
// latent larger than one tile (40 > 32 latent rows) the CUDA video is the whole-frame decode, not
// the CPU decoder's tiled one (the tiny VAE's tiles differ from it by 0.024 relative L2 here).
TEST(WanVaeCuda, DecodesWholeFramesAsUpstream) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Tensor latent = test::random_latent(2, 40, 36, 21);
  const auto cpu = WanVaeDecoder::open(test::tiny_wan_vae_path(), at::kCPU, at::kFloat);
  const at::Tensor whole = cpu->vae().decode(latent);
  const at::Tensor tiled = cpu->decode_tensor(latent);
  ASSERT_GT(test::relative_l2(tiled, whole), 20 * kFloat32Tolerance);
  const bool tf32 = at::globalContext().allowTF32CuDNN();
  at::globalContext().setAllowTF32CuDNN(false);
  DecodeReport report;
  const at::Tensor gpu =
      WanVaeDecoder::open(test::tiny_wan_vae_path(), at::kCUDA, at::kFloat)->decode_tensor(latent.to(at::kCUDA), nullptr, &report).cpu();
  at::globalContext().setAllowTF32CuDNN(tf32);
  std::cout << "[ measured ] CUDA whole-frame decode vs CPU whole: relative L2 " << test::relative_l2(gpu, whole)
            << "; the CPU's tiles vs whole " << test::relative_l2(tiled, whole) << "\n";
  EXPECT_TRUE(test::tensors_close(gpu, whole, kFloat32Tolerance));
  EXPECT_FALSE(report.tiles_after_out_of_memory);
  EXPECT_TRUE(report.note.empty()) << report.note;
}

// Whole frames that run out of GPU memory are decoded in tiles instead, and the report says so;
// the next decode of that size goes to tiles at once. The allocator's limit (this process only)
// sits between what the tiles and the whole frames need.
TEST(WanVaeCuda, WholeFramesOutOfMemoryDecodeInTiles) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
#if !SVGEAR_HAVE_CUDA
  GTEST_SKIP() << "a build without CUDA";
#else
  // What the test changes in this process, put back however it ends.
  struct Restore {
    bool tf32 = at::globalContext().allowTF32CuDNN();
    ~Restore() {
      allocator::setMemoryFraction(1.0, 0);
      at::globalContext().setAllowTF32CuDNN(tf32);
    }
  } restore;
  at::globalContext().setAllowTF32CuDNN(false);
  const auto decoder = WanVaeDecoder::open(test::tiny_wan_vae_path(), at::kCUDA, at::kFloat);
  const at::Tensor latent = test::random_latent(2, 96, 96, 22).to(at::kCUDA);
  const auto peak_bytes = [&](const std::function<at::Tensor()>& decode) {
    allocator::emptyCache();
    allocator::resetPeakStats(0);
    const int64_t before = allocator::getDeviceStats(0).allocated_bytes[kAll].current;
    at::Tensor video = decode();
    return std::pair{video.cpu(), allocator::getDeviceStats(0).allocated_bytes[kAll].peak - before};
  };
  const auto [whole, whole_bytes] = peak_bytes([&] { return decoder->vae().decode(latent); });
  const auto [tiled, tiled_bytes] = peak_bytes([&] {
    return decode_in_tiles(latent, LatentTiling{}, 8, [&](const at::Tensor& tile) { return decoder->vae().decode(tile); });
  });
  std::cout << "[ measured ] decode peaks: whole frames " << whole_bytes / 1048576.0 << " MiB, tiles "
            << tiled_bytes / 1048576.0 << " MiB\n";
  ASSERT_GT(whole_bytes, 4 * tiled_bytes);
  ASSERT_GT(test::relative_l2(tiled, whole), 20 * kFloat32Tolerance);

  allocator::emptyCache();
  const int64_t reserved = allocator::getDeviceStats(0).reserved_bytes[kAll].current;
  size_t free = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free, &total), cudaSuccess);
  const double between = std::sqrt(double(whole_bytes) * double(tiled_bytes));  // 2× or more from each
  allocator::setMemoryFraction((double(reserved) + between) / double(total), 0);
  DecodeReport report;
  const at::Tensor video = decoder->decode_tensor(latent, nullptr, &report).cpu();
  EXPECT_TRUE(test::tensors_close(video, tiled, kFloat32Tolerance));
  EXPECT_TRUE(report.tiles_after_out_of_memory);
  EXPECT_NE(report.note.find("ran out of GPU memory decoding whole 768×768 frames"), std::string::npos) << report.note;
  EXPECT_NE(report.note.find("tiles of 256 pixels"), std::string::npos) << report.note;
  // With the limit lifted, the same size still goes to tiles at once: it is known not to fit.
  allocator::setMemoryFraction(1.0, 0);
  DecodeReport again;
  EXPECT_TRUE(test::tensors_close(decoder->decode_tensor(latent, nullptr, &again).cpu(), tiled, kFloat32Tolerance));
  EXPECT_TRUE(again.tiles_after_out_of_memory);
#endif
}

// Whole frames at the released layouts' default sizes and lengths (2.1: 81 frames of 480×832,
// 2.2: 121 of 704×1280), float32 on the GPU, from random weights scaled to keep activations O(1):
// the video's shape, finite values, and what the decode holds at its peak and how long it takes
// (printed for docs/wan.md).
TEST(WanVaeCuda, ReleasedLayoutsDecodeWholeFramesAtTheirDefaultSizes) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
#if !SVGEAR_HAVE_CUDA
  GTEST_SKIP() << "a build without CUDA";
#else
  struct Layout {
    const char* name;
    WanVaeConfig config;
    int64_t frames, height, width;  // latent cells
  };
  for (const Layout& layout :
       {Layout{"2.1", WanVaeConfig{}, 21, 60, 104}, Layout{"2.2", WanVaeConfig::wan22(), 31, 44, 80}}) {
    SCOPED_TRACE(layout.name);
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(7);
    WanVaeWeights weights = WanVaeWeights::meta(layout.config);
    weights.for_each_tensor([&](const std::string& name, at::Tensor& tensor) {
      const std::vector<int64_t> shape = tensor.sizes().vec();
      at::Tensor value = at::randn(shape, generator, at::kFloat);
      if (name.ends_with(".gamma")) {
        value = 1.0 + 0.1 * value;
      } else if (name.ends_with(".bias")) {
        value = 0.05 * value;
      } else {
        value = value * (0.5 / std::sqrt(double(tensor.numel() / shape[0])));
      }
      tensor = value;
    });
    WanVae vae(std::move(weights));
    vae.to(at::kCUDA, at::kFloat);
    const at::Tensor latent =
        at::randn({layout.config.z_dim, layout.frames, layout.height, layout.width}, generator).to(at::kCUDA);
    vae.decode(latent.narrow(1, 0, 1)).sum().item<float>();  // cuDNN's plans, outside the measured decode
    allocator::emptyCache();
    allocator::resetPeakStats(0);
    const int64_t before = allocator::getDeviceStats(0).allocated_bytes[kAll].current;
    const auto start = std::chrono::steady_clock::now();
    const at::Tensor video = vae.decode(latent);
    const bool finite = video.isfinite().all().item<bool>();  // waits for the decode
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const int64_t peak = allocator::getDeviceStats(0).allocated_bytes[kAll].peak - before;
    const int64_t s = layout.config.spatial_factor();
    std::cout << "[ measured ] Wan " << layout.name << " VAE, whole " << layout.width * s << "×" << layout.height * s
              << " frames in float32: peak " << peak / 1073741824.0 << " GiB beside the weights (the output "
              << video.numel() * 4 / 1073741824.0 << " GiB of it), " << ms / 1000 << " s for "
              << video.size(1) << " frames\n";
    EXPECT_EQ(video.sizes(), (at::IntArrayRef{3, 1 + 4 * (layout.frames - 1), layout.height * s, layout.width * s}));
    EXPECT_TRUE(finite);
  }
#endif
}

}  // namespace
}  // namespace svgear
