#include "core/model/rope.h"

#include <ATen/ATen.h>

namespace svgear {
namespace {

constexpr double kRopeTheta = 10000.0;

// Angles of positions 0..length-1 on an axis of `channels` channels, float64.
at::Tensor axis_angles(int64_t length, int channels) {
  at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble);
  at::Tensor exponents = at::arange(0, channels, 2, f64) / double(channels);  // [channels / 2]
  at::Tensor inv_freq = 1.0 / at::pow(kRopeTheta, exponents);
  return at::outer(at::arange(length, f64), inv_freq);                   // [length, channels / 2]
}

}  // namespace

RopeAxes rope_axes(int head_dim) {
  const int spatial = 2 * (head_dim / 6);
  return RopeAxes{head_dim - 2 * spatial, spatial, spatial};
}

RopeTable rope_table(int head_dim, const TokenGrid& grid, at::Device device) {
  const RopeAxes axes = rope_axes(head_dim);
  const int64_t f = grid.frames;
  const int64_t h = grid.height;
  const int64_t w = grid.width;
  at::Tensor frames = axis_angles(f, axes.frames).view({f, 1, 1, -1}).expand({f, h, w, -1});
  at::Tensor height = axis_angles(h, axes.height).view({1, h, 1, -1}).expand({f, h, w, -1});
  at::Tensor width = axis_angles(w, axes.width).view({1, 1, w, -1}).expand({f, h, w, -1});
  at::Tensor angles = at::cat({frames, height, width}, -1).reshape({f * h * w, head_dim / 2});
  return RopeTable{at::polar(at::ones_like(angles), angles).to(device, at::kComplexFloat)};  // [N, head_dim / 2]
}

RopeTable RopeTableCache::get(int head_dim, const TokenGrid& grid, at::Device device) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const bool same = device_ == device && head_dim_ == head_dim && grid_.frames == grid.frames &&
                    grid_.height == grid.height && grid_.width == grid.width;
  if (!same) {
    table_ = rope_table(head_dim, grid, device);
    head_dim_ = head_dim;
    grid_ = grid;
    device_ = device;
  }
  return table_;
}

}  // namespace svgear
