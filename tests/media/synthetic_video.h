#pragma once
// Test videos with known content: smooth moving gradients (what an encoder should keep well)
// plus a bright bar whose position encodes the frame index (so reordered frames are caught).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "core/media/video.h"

namespace svgear::test {

inline Video moving_gradient(int frames, int height, int width, double fps = 16.0) {
  Video video{frames, height, width, fps, {}};
  video.rgb.resize(video.frame_bytes() * frames);
  const double tau = 2 * std::numbers::pi;
  for (int f = 0; f < frames; ++f) {
    uint8_t* rgb = video.frame(f);
    const int bar_start = (f * 5) % width;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        uint8_t* pixel = rgb + (size_t(y) * width + x) * 3;
        // The bar only brightens, so it adds a luma edge but no chroma edge that 4:2:0 would blur.
        const int bar = y < 6 && x >= bar_start && x < bar_start + 4 ? 60 : 0;
        pixel[0] = uint8_t(std::lround(128 + 60 * std::sin(tau * (x + 2 * f) / 40.0)) + bar);
        pixel[1] = uint8_t(std::lround(128 + 60 * std::cos(tau * (y - f) / 30.0)) + bar);
        pixel[2] = uint8_t(std::lround(128 + 60 * std::sin(tau * (x + y + 3 * f) / 50.0)) + bar);
      }
    }
  }
  return video;
}

// Something like a generated clip: a blue sky darkening upwards with soft drifting clouds, a red
// disc moving left, the horizon's green hills and a little fixed grain. Encoders treat it as they
// would a model's output (mb-tree, B-frames, motion search all have work to do).
inline Video sky_scene(int frames, int height, int width, double fps = 16.0) {
  Video video{frames, height, width, fps, {}};
  video.rgb.resize(video.frame_bytes() * frames);
  for (int f = 0; f < frames; ++f) {
    uint8_t* rgb = video.frame(f);
    const double cx = width * (0.8 - 0.6 * f / std::max(frames - 1, 1)), cy = height * 0.4;
    const double radius = height * 0.15;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const double v = double(y) / height;
        double r = 70 + 80 * v, g = 120 + 70 * v, b = 230 - 20 * v;
        const double cloud = std::max(0.0, std::sin((x + 1.5 * f) / (width * 0.09)) *
                                               std::sin(y / (height * 0.07) + 0.3 * std::sin(x / 23.0)));
        r += 150 * cloud * cloud, g += 110 * cloud * cloud, b += 25 * cloud * cloud;
        if (y > height * (0.75 + 0.05 * std::sin(x / (width * 0.12)))) r = 40, g = 120 + 30 * v, b = 50;
        const double d = std::hypot(x - cx, y - cy) - radius;
        const double disc = std::clamp(0.5 - d, 0.0, 1.0);  // one pixel of anti-aliasing
        r += disc * (225 - r), g += disc * (35 - g), b += disc * (30 - b);
        const uint32_t hash = (uint32_t(x) * 73856093u) ^ (uint32_t(y) * 19349663u);
        const double grain = double(hash % 9) - 4.0;
        uint8_t* pixel = rgb + (size_t(y) * width + x) * 3;
        pixel[0] = uint8_t(std::clamp(std::lround(r + grain), 0L, 255L));
        pixel[1] = uint8_t(std::clamp(std::lround(g + grain), 0L, 255L));
        pixel[2] = uint8_t(std::clamp(std::lround(b + grain), 0L, 255L));
      }
    }
  }
  return video;
}

// Mean squared error between frame `fa` of `a` and frame `fb` of `b`, over the region both cover
// (an odd-sized video comes back from MP4 padded by a row/column).
inline double frame_mse(const Video& a, int fa, const Video& b, int fb) {
  const int height = std::min(a.height, b.height), width = std::min(a.width, b.width);
  double sum = 0;
  for (int y = 0; y < height; ++y) {
    const uint8_t* row_a = a.frame(fa) + size_t(y) * a.width * 3;
    const uint8_t* row_b = b.frame(fb) + size_t(y) * b.width * 3;
    for (int i = 0; i < width * 3; ++i) sum += double(row_a[i] - row_b[i]) * (row_a[i] - row_b[i]);
  }
  return sum / (double(height) * width * 3);
}

// PSNR in dB over all frames (frame i against frame i).
inline double psnr(const Video& a, const Video& b) {
  double mse = 0;
  for (int f = 0; f < a.frames; ++f) mse += frame_mse(a, f, b, f);
  mse /= a.frames;
  return mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace svgear::test
