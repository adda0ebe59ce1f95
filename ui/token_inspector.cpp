#include "ui/token_inspector.h"

#include <algorithm>

namespace svgear {

namespace {

// Latent frames of a video under the causal VAE, at least one.
int latent_frames(int video_frames, int t) { return 1 + std::max(0, video_frames - 1) / t; }

}  // namespace

int grid_frame_of(const TokenGrid3& grid, int video_frames, int frame) {
  if (video_frames <= 0 || grid.frames <= 0) return 0;
  if (grid.temporal_factor <= 0) return int(int64_t(frame) * grid.frames / video_frames);
  const int t = grid.temporal_factor;
  const int latent = (frame + t - 1) / t;
  return std::min(grid.frames - 1, int(int64_t(latent) * grid.frames / latent_frames(video_frames, t)));
}

int video_frame_of(const TokenGrid3& grid, int video_frames, int grid_frame) {
  if (video_frames <= 0 || grid.frames <= 0) return 0;
  int frame = 0;
  if (grid.temporal_factor <= 0) {
    frame = int(int64_t(grid_frame) * video_frames / grid.frames);
  } else {
    const int t = grid.temporal_factor;
    const int latent = int(int64_t(grid_frame) * latent_frames(video_frames, t) / grid.frames);
    frame = latent == 0 ? 0 : t * (latent - 1) + 1;
  }
  return std::clamp(frame, 0, video_frames - 1);
}

int token_at_pixel(const TokenGrid3& grid, int video_frames, int video_height, int video_width, int frame, int x, int y) {
  if (grid.tokens() <= 0 || video_frames <= 0 || x < 0 || y < 0 || x >= video_width || y >= video_height || frame < 0 ||
      frame >= video_frames) {
    return -1;
  }
  const int f = grid_frame_of(grid, video_frames, frame);
  const int row = int(int64_t(y) * grid.height / video_height);
  const int column = int(int64_t(x) * grid.width / video_width);
  return (f * grid.height + row) * grid.width + column;
}

TokenInspection inspect_token(const RoutingTrace& trace, const TokenGrid3& grid, int token) {
  TokenInspection out;
  if (token < 0 || size_t(token) >= trace.q_labels.size() || size_t(token) >= trace.k_labels.size() ||
      grid.tokens() != int(trace.q_labels.size())) {
    return out;
  }
  out.token = token;
  out.column = token % grid.width;
  out.row = (token / grid.width) % grid.height;
  out.frame = token / (grid.width * grid.height);
  out.q_cluster = trace.q_labels[size_t(token)];
  out.k_cluster = trace.k_labels[size_t(token)];
  if (size_t(out.q_cluster) < trace.q_sizes.size()) out.q_cluster_size = trace.q_sizes[size_t(out.q_cluster)];
  if (size_t(out.k_cluster) < trace.k_sizes.size()) out.k_cluster_size = trace.k_sizes[size_t(out.k_cluster)];
  const size_t row = size_t(out.q_cluster) * size_t(trace.k_clusters);
  if (trace.block_map.size() < row + size_t(trace.k_clusters)) return out;  // detail dropped
  for (int j = 0; j < trace.k_clusters; ++j) {
    const int64_t keys = size_t(j) < trace.k_sizes.size() ? trace.k_sizes[size_t(j)] : 0;
    if (trace.block_map[row + size_t(j)]) {
      out.exact.push_back(j);
      out.exact_keys += keys;
    } else if (keys > 0) {
      out.compensated.push_back(j);
    } else {
      ++out.empty;
    }
  }
  if (trace.block_log_error.size() >= row + size_t(trace.k_clusters)) {
    out.block_log_error.assign(trace.block_log_error.begin() + ptrdiff_t(row),
                               trace.block_log_error.begin() + ptrdiff_t(row + size_t(trace.k_clusters)));
  }
  return out;
}

}  // namespace svgear
