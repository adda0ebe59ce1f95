#include "kernels/video_to_rgb8/video_to_rgb8.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace svgear {
namespace {

TEST(VideoToRgb8, ReferenceMapsRangeAndLayout) {
  // Channel c of pixel (f, y, x) holds a distinct value so the permutation is visible.
  at::Tensor video = at::empty({3, 2, 1, 3});
  const float values[3][2][3] = {{{-1.0f, 0.0f, 1.0f}, {-2.0f, 2.0f, 0.5f}},
                                 {{-0.5f, 0.25f, -0.75f}, {0.999f, -0.999f, 0.0f}},
                                 {{1e-7f, -1e-7f, 0.1f}, {-0.1f, 0.75f, 0.004f}}};
  for (int c = 0; c < 3; ++c)
    for (int f = 0; f < 2; ++f)
      for (int x = 0; x < 3; ++x) video[c][f][0][x] = values[c][f][x];
  at::Tensor rgb = video_to_rgb8(video);
  ASSERT_EQ(rgb.sizes(), at::IntArrayRef({2, 1, 3, 3}));
  ASSERT_EQ(rgb.scalar_type(), at::kByte);
  auto code = [](float v) {
    float c = std::min(std::max(v, -1.0f), 1.0f);
    return static_cast<int>(std::nearbyint((c + 1.0f) * 127.5f));
  };
  for (int c = 0; c < 3; ++c)
    for (int f = 0; f < 2; ++f)
      for (int x = 0; x < 3; ++x)
        EXPECT_EQ(rgb[f][0][x][c].item<int>(), code(values[c][f][x])) << c << f << x;
  EXPECT_EQ(rgb[0][0][0][0].item<int>(), 0);    // -1 → black
  EXPECT_EQ(rgb[0][0][2][0].item<int>(), 255);  // +1 → white
  EXPECT_EQ(rgb[1][0][0][0].item<int>(), 0);    // clamped below
  EXPECT_EQ(rgb[1][0][1][0].item<int>(), 255);  // clamped above
}

TEST(VideoToRgb8, AcceptsHalfPrecisionAndRejectsBadShapes) {
  at::Tensor video = at::rand({3, 2, 5, 7}) * 2 - 1;
  at::Tensor from_bf16 = video_to_rgb8(video.to(at::kBFloat16));
  at::Tensor from_f32 = video_to_rgb8(video.to(at::kBFloat16).to(at::kFloat));
  EXPECT_TRUE(at::equal(from_bf16, from_f32));
  EXPECT_THROW(video_to_rgb8(at::rand({4, 2, 5, 7})), c10::Error);
  EXPECT_THROW(video_to_rgb8(at::rand({3, 5, 7})), c10::Error);
  EXPECT_THROW(video_to_rgb8(at::ones({3, 1, 2, 2}, at::kInt)), c10::Error);
}

TEST(VideoToRgb8, CudaMatchesReferenceOnAwkwardSizes) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const std::vector<std::array<int64_t, 3>> sizes = {{1, 1, 1}, {3, 7, 13}, {17, 64, 64}, {2, 257, 33}, {0, 4, 4}};
  for (const auto& s : sizes) {
    at::Tensor video = at::randn({3, s[0], s[1], s[2]}) * 0.8;
    at::Tensor cpu = video_to_rgb8(video);
    at::Tensor gpu = video_to_rgb8(video.to(at::kCUDA)).cpu();
    ASSERT_EQ(gpu.sizes(), cpu.sizes());
    if (cpu.numel() == 0) continue;
    at::Tensor diff = (gpu.to(at::kInt) - cpu.to(at::kInt)).abs();
    EXPECT_LE(diff.max().item<int>(), 1) << s[0] << "x" << s[1] << "x" << s[2];
    EXPECT_GE((diff == 0).to(at::kDouble).mean().item<double>(), 0.999);
  }
}

// A video on the second GPU while the first is current: converted on its own device.
TEST(VideoToRgb8, CudaRunsOnTheVideosDevice) {
  if (!at::hasCUDA() || at::getNumGPUs() < 2) GTEST_SKIP() << "fewer than two CUDA devices";
  at::Tensor video = at::randn({3, 2, 9, 11}) * 0.8;
  at::Tensor gpu = video_to_rgb8(video.to(at::Device(at::kCUDA, 1)));
  EXPECT_EQ(gpu.device(), at::Device(at::kCUDA, 1));
  at::Tensor diff = (gpu.cpu().to(at::kInt) - video_to_rgb8(video).to(at::kInt)).abs();
  EXPECT_LE(diff.max().item<int>(), 1);
}

}  // namespace
}  // namespace svgear
