#include "ui/token_inspector.h"

namespace svgear {

int token_at_pixel(const TokenGrid3& grid, int video_frames, int video_height, int video_width, int frame, int x, int y) {
  if (grid.tokens() <= 0 || video_frames <= 0 || x < 0 || y < 0 || x >= video_width || y >= video_height || frame < 0 ||
      frame >= video_frames) {
    return -1;
  }
  const int f = int(int64_t(frame) * grid.frames / video_frames);
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
    }
  }
  if (trace.block_log_error.size() >= row + size_t(trace.k_clusters)) {
    out.block_log_error.assign(trace.block_log_error.begin() + ptrdiff_t(row),
                               trace.block_log_error.begin() + ptrdiff_t(row + size_t(trace.k_clusters)));
  }
  return out;
}

}  // namespace svgear
