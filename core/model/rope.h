#pragma once
// 3-axis rotary position embedding of Wan (upstream `rope_params` / `rope_apply`): each head's
// channels are split among the frame, height and width axes, and channel pairs (2i, 2i+1) are
// rotated by position × 10000^(-2j / axis_channels) of their axis.

#include <mutex>
#include <optional>

#include <ATen/core/Tensor.h>

#include "core/attention/attention_backend.h"

namespace svgear {

// Channels of one head given to each axis: height = width = 2 * (head_dim / 6), frames the rest.
struct RopeAxes {
  int frames = 0;
  int height = 0;
  int width = 0;
};
RopeAxes rope_axes(int head_dim);

// e^{i·angle} of every token's angles, [N, head_dim / 2] complex64, tokens frame-major as in TokenGrid:
// a pair's rotation is one complex product, as upstream's. rms_norm_rope
// (kernels/rms_norm_rope) applies it to the self-attention queries and keys.
struct RopeTable {
  at::Tensor rotation;
};
// Angles are computed in float64 on the CPU (as upstream), then stored as complex64 on `device`.
RopeTable rope_table(int head_dim, const TokenGrid& grid, at::Device device);

// The table of the last (head_dim, grid, device) asked for. Every forward of a generation has the
// same grid, and building the table is a float64 pass on the CPU and a pageable host-to-device copy,
// which waits for the device's queue to drain (once per pass otherwise: two or three per step).
class RopeTableCache {
 public:
  RopeTable get(int head_dim, const TokenGrid& grid, at::Device device);

 private:
  std::mutex mutex_;  // forwards of one model may run on several threads
  int head_dim_ = 0;
  TokenGrid grid_;
  std::optional<at::Device> device_;
  RopeTable table_;
};

}  // namespace svgear
