#pragma once
// Token inspection: what one routing trace says about one token — its query cluster and that
// cluster's size, which key clusters its queries attend exactly and which through their centroids
// (compensation, or nothing for SVG2), and the probe's error estimate of each block. Qt-free; the
// preview's Dear ImGui inspector shows it for the token under the mouse.

#include <cstdint>
#include <vector>

#include "core/attention/routing_trace.h"

namespace svgear {

struct TokenGrid3 {
  int frames = 0, height = 0, width = 0;  // the DiT's token grid (RoutingEvent::grid_*)
  int temporal_factor = 0;                 // RoutingEvent::temporal_factor
  int tokens() const { return frames * height * width; }
};

// The grid frame a video frame shows, and the first video frame of a grid frame. Pixel models map
// evenly; under Wan's causal VAE video frame 0 is latent frame 0 and latent frame k ≥ 1 is video
// frames t(k − 1) + 1 … tk.
int grid_frame_of(const TokenGrid3& grid, int video_frames, int frame);
int video_frame_of(const TokenGrid3& grid, int video_frames, int grid_frame);

struct TokenInspection {
  int token = -1;  // -1: nothing to inspect
  int frame = 0, row = 0, column = 0;  // in the token grid
  int q_cluster = 0;
  int64_t q_cluster_size = 0;
  int k_cluster = 0;  // the token's own key cluster
  int64_t k_cluster_size = 0;
  std::vector<int> exact;        // key clusters the query cluster computes exactly
  std::vector<int> compensated;  // the others (non-empty ones): centroid compensation or skipped
  int empty = 0;                 // key clusters neither: no key fell in them (k-means left them empty)
  int64_t exact_keys = 0;        // keys in the exact clusters
  // log ε̂² per key cluster of the query cluster's row (empty for SVG2, which has no probe).
  std::vector<float> block_log_error;
};

// The token at a pixel of a video frame: the grid scales the frame (each token covers
// width/grid.width × height/grid.height pixels) and time (grid_frame_of). -1 outside the video.
int token_at_pixel(const TokenGrid3& grid, int video_frames, int video_height, int video_width, int frame, int x, int y);

// Throws nothing: a token outside the trace's labels gives token = -1.
TokenInspection inspect_token(const RoutingTrace& trace, const TokenGrid3& grid, int token);

}  // namespace svgear
