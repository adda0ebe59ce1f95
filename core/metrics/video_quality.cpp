#include "core/metrics/video_quality.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/user_error.h"

namespace svgear {
namespace {

constexpr int kSsimWindow = 11;
constexpr double kC1 = 0.01 * 0.01;
constexpr double kC2 = 0.03 * 0.03;

double frame_psnr_db(const uint8_t* a, const uint8_t* b, size_t bytes) {
  // Integer squared differences are exact; the only rounding is the final division.
  uint64_t squared = 0;
  for (size_t i = 0; i < bytes; ++i) {
    const int d = int(a[i]) - int(b[i]);
    squared += uint64_t(d * d);
  }
  if (squared == 0) return std::numeric_limits<double>::infinity();
  const double mse = double(squared) / (255.0 * 255.0) / double(bytes);
  return 10.0 * std::log10(1.0 / mse);
}

// Summed-area table of one channel's per-pixel quantity, one row and column of zeros in front, so
// every window's sum is four lookups: SSIM costs O(pixels) whatever the window size.
class SummedArea {
 public:
  SummedArea(int height, int width) : width_(width + 1), sums_(size_t(height + 1) * (width + 1), 0.0) {}
  void set(int y, int x, double value) {
    at(y + 1, x + 1) = value + at(y, x + 1) + at(y + 1, x) - at(y, x);
  }
  // The sum over rows [y0, y1) and columns [x0, x1).
  double rect(int y0, int x0, int y1, int x1) const { return at(y1, x1) - at(y0, x1) - at(y1, x0) + at(y0, x0); }

 private:
  double& at(int y, int x) { return sums_[size_t(y) * width_ + x]; }
  double at(int y, int x) const { return sums_[size_t(y) * width_ + x]; }
  int width_;
  std::vector<double> sums_;
};

// Mean of the SSIM map over every pixel of all three channels, as the papers' metric.py computes
// it with avg_pool2d(kernel 11, stride 1, padding 5): the window is centred on the pixel, the
// frame zero-padded, and each window's sums divided by 121 however much of it lies inside.
double frame_ssim(const uint8_t* a, const uint8_t* b, int height, int width) {
  constexpr int kRadius = kSsimWindow / 2;
  constexpr double kArea = double(kSsimWindow) * kSsimWindow;
  double total = 0.0;
  for (int c = 0; c < 3; ++c) {
    SummedArea sa(height, width), sb(height, width), saa(height, width), sbb(height, width), sab(height, width);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const size_t i = (size_t(y) * width + x) * 3 + c;
        const double va = a[i] / 255.0;
        const double vb = b[i] / 255.0;
        sa.set(y, x, va);
        sb.set(y, x, vb);
        saa.set(y, x, va * va);
        sbb.set(y, x, vb * vb);
        sab.set(y, x, va * vb);
      }
    }
    for (int y = 0; y < height; ++y) {
      const int y0 = std::max(0, y - kRadius), y1 = std::min(height, y + kRadius + 1);
      for (int x = 0; x < width; ++x) {
        const int x0 = std::max(0, x - kRadius), x1 = std::min(width, x + kRadius + 1);
        const double mu_a = sa.rect(y0, x0, y1, x1) / kArea;
        const double mu_b = sb.rect(y0, x0, y1, x1) / kArea;
        const double var_a = saa.rect(y0, x0, y1, x1) / kArea - mu_a * mu_a;
        const double var_b = sbb.rect(y0, x0, y1, x1) / kArea - mu_b * mu_b;
        const double cov = sab.rect(y0, x0, y1, x1) / kArea - mu_a * mu_b;
        total += ((2 * mu_a * mu_b + kC1) * (2 * cov + kC2)) /
                 ((mu_a * mu_a + mu_b * mu_b + kC1) * (var_a + var_b + kC2));
      }
    }
  }
  return total / (3.0 * height * width);
}

}  // namespace

VideoQuality compare_videos(const Video& reference, const Video& test) {
  if (reference.empty() || test.empty()) throw UserError("cannot compare an empty video");
  if (reference.frames != test.frames || reference.height != test.height || reference.width != test.width) {
    throw UserError("videos differ in size: reference " + std::to_string(reference.frames) + " frames of " +
                    std::to_string(reference.width) + "x" + std::to_string(reference.height) + ", test " +
                    std::to_string(test.frames) + " frames of " + std::to_string(test.width) + "x" +
                    std::to_string(test.height) + "; compare runs of the same request");
  }
  VideoQuality q;
  double differing_psnr_sum = 0.0;
  for (int f = 0; f < reference.frames; ++f) {
    const double psnr = frame_psnr_db(reference.frame(f), test.frame(f), reference.frame_bytes());
    if (std::isinf(psnr)) {
      ++q.identical_frames;
    } else {
      differing_psnr_sum += psnr;
    }
    q.psnr_db.push_back(psnr);
    q.ssim.push_back(frame_ssim(reference.frame(f), test.frame(f), reference.height, reference.width));
    q.mean_ssim += q.ssim.back();
  }
  const int differing = reference.frames - q.identical_frames;
  q.mean_psnr_db = differing > 0 ? differing_psnr_sum / differing : std::numeric_limits<double>::infinity();
  q.mean_ssim /= reference.frames;
  return q;
}

std::string format_psnr_db(double psnr_db) {
  if (std::isinf(psnr_db)) return "inf (identical)";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f dB", psnr_db);
  return text;
}

}  // namespace svgear
