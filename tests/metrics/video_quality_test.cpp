#include "core/metrics/video_quality.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "core/user_error.h"

namespace svgear {
namespace {

Video random_video(int frames, int height, int width, uint32_t seed) {
  Video v;
  v.frames = frames;
  v.height = height;
  v.width = width;
  v.rgb.resize(size_t(frames) * height * width * 3);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : v.rgb) b = uint8_t(byte(rng));
  return v;
}

// Adds uniform noise in [-amplitude, amplitude], clamped to 8 bits.
Video with_noise(const Video& v, int amplitude, uint32_t seed) {
  Video noisy = v;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-amplitude, amplitude);
  for (auto& b : noisy.rgb) b = uint8_t(std::clamp(int(b) + noise(rng), 0, 255));
  return noisy;
}

// The textbook definition in float64, without summed-area tables: an 11×11 window centred on each
// pixel of the frame zero-padded by 5 (avg_pool2d's padding, the pads counted), deviations from
// the window's mean over all 121 values.
double brute_force_ssim(const Video& a, const Video& b, int f) {
  const auto value = [&](const Video& v, int y, int x, int c) {
    if (y < 0 || y >= v.height || x < 0 || x >= v.width) return 0.0;
    return v.frame(f)[(size_t(y) * v.width + x) * 3 + c] / 255.0;
  };
  double total = 0.0;
  for (int c = 0; c < 3; ++c) {
    for (int yc = 0; yc < a.height; ++yc) {
      for (int xc = 0; xc < a.width; ++xc) {
        double ma = 0, mb = 0;
        for (int y = yc - 5; y <= yc + 5; ++y) {
          for (int x = xc - 5; x <= xc + 5; ++x) {
            ma += value(a, y, x, c);
            mb += value(b, y, x, c);
          }
        }
        ma /= 121;
        mb /= 121;
        double va = 0, vb = 0, cov = 0;
        for (int y = yc - 5; y <= yc + 5; ++y) {
          for (int x = xc - 5; x <= xc + 5; ++x) {
            const double da = value(a, y, x, c) - ma;
            const double db = value(b, y, x, c) - mb;
            va += da * da;
            vb += db * db;
            cov += da * db;
          }
        }
        va /= 121;
        vb /= 121;
        cov /= 121;
        const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
        total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      }
    }
  }
  return total / (3.0 * a.height * a.width);
}

TEST(VideoQuality, ConstantOffsetGivesExactPsnr) {
  Video reference = random_video(3, 16, 20, 1);
  for (auto& b : reference.rgb) b = uint8_t(std::min<int>(b, 250));
  Video test = reference;
  for (auto& b : test.rgb) b = uint8_t(b + 5);
  const VideoQuality q = compare_videos(reference, test);
  // MSE = (5/255)^2 on every pixel.
  const double expected = 10.0 * std::log10(255.0 * 255.0 / 25.0);
  ASSERT_EQ(q.psnr_db.size(), 3u);
  for (double p : q.psnr_db) EXPECT_NEAR(p, expected, 1e-9);
  EXPECT_NEAR(q.mean_psnr_db, expected, 1e-9);
  EXPECT_EQ(q.identical_frames, 0);
}

TEST(VideoQuality, IdenticalVideosAreInfiniteAndOne) {
  const Video v = random_video(2, 24, 17, 2);
  const VideoQuality q = compare_videos(v, v);
  EXPECT_TRUE(std::isinf(q.mean_psnr_db) && q.mean_psnr_db > 0);
  EXPECT_EQ(q.identical_frames, 2);
  for (double s : q.ssim) EXPECT_DOUBLE_EQ(s, 1.0);
  EXPECT_DOUBLE_EQ(q.mean_ssim, 1.0);
  EXPECT_EQ(format_psnr_db(q.mean_psnr_db), "inf (identical)");
  EXPECT_EQ(format_psnr_db(31.4159), "31.42 dB");
}

// One identical frame of three must not make the clip read as identical: the mean PSNR is over the
// two frames that differ (it was +inf, printed "inf (identical)").
TEST(VideoQuality, SomeIdenticalFramesLeaveTheMeanOverTheOthers) {
  Video reference = random_video(3, 16, 20, 12);
  for (auto& b : reference.rgb) b = uint8_t(std::min<int>(b, 250));
  Video test = reference;
  for (int f = 1; f < 3; ++f) {
    uint8_t* frame = test.frame(f);
    for (size_t i = 0; i < test.frame_bytes(); ++i) frame[i] = uint8_t(frame[i] + (f == 1 ? 5 : 2));
  }
  const VideoQuality q = compare_videos(reference, test);
  EXPECT_EQ(q.identical_frames, 1);
  EXPECT_TRUE(std::isinf(q.psnr_db[0]));
  const double five = 10.0 * std::log10(255.0 * 255.0 / 25.0), two = 10.0 * std::log10(255.0 * 255.0 / 4.0);
  EXPECT_NEAR(q.mean_psnr_db, (five + two) / 2, 1e-9);
  EXPECT_DOUBLE_EQ(q.ssim[0], 1.0);
}

TEST(VideoQuality, SsimMatchesBruteForceFloat64) {
  const Video a = random_video(2, 19, 23, 3);
  const Video b = with_noise(a, 40, 4);
  const VideoQuality q = compare_videos(a, b);
  for (int f = 0; f < 2; ++f) EXPECT_NEAR(q.ssim[f], brute_force_ssim(a, b, f), 1e-10) << "frame " << f;
  EXPECT_NEAR(q.mean_ssim, (q.ssim[0] + q.ssim[1]) / 2, 1e-15);
  // A frame narrower than the window: the zero padding fills it.
  const Video c = random_video(1, 7, 30, 5);
  const Video d = with_noise(c, 20, 6);
  EXPECT_NEAR(compare_videos(c, d).ssim[0], brute_force_ssim(c, d, 0), 1e-10);
}

TEST(VideoQuality, MoreNoiseLowersBoth) {
  const Video reference = random_video(2, 32, 32, 7);
  const VideoQuality light = compare_videos(reference, with_noise(reference, 4, 8));
  const VideoQuality heavy = compare_videos(reference, with_noise(reference, 60, 9));
  EXPECT_GT(light.mean_psnr_db, heavy.mean_psnr_db + 10.0);
  EXPECT_GT(light.mean_ssim, heavy.mean_ssim + 0.05);  // measured 0.9994 vs 0.906
  EXPECT_LT(light.mean_ssim, 1.0);
  EXPECT_GT(heavy.mean_psnr_db, 0.0);
}

TEST(VideoQuality, MismatchedSizesAreAUserError) {
  const Video a = random_video(2, 16, 16, 10);
  EXPECT_THROW(compare_videos(a, random_video(3, 16, 16, 11)), UserError);
  EXPECT_THROW(compare_videos(a, random_video(2, 16, 8, 12)), UserError);
  EXPECT_THROW(compare_videos(Video{}, Video{}), UserError);
}

}  // namespace
}  // namespace svgear
