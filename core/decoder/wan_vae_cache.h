#pragma once
// WanVaeCache: the causal feature caches of one decode (upstream `feat_cache` / `feat_idx`). The
// decoder runs one latent frame at a time; every cached convolution keeps the last
// kWanVaeCacheFrames frames of its input, which become the left (past) padding of the next chunk.
// Slots are handed out in call order, restarting each chunk, exactly as upstream counts them.

#include <cstddef>
#include <vector>

#include <ATen/core/Tensor.h>

namespace svgear {

// upstream CACHE_T: a 3-tap causal convolution needs two frames of the past.
constexpr int kWanVaeCacheFrames = 2;

struct WanVaeCacheSlot {
  at::Tensor frames;     // [B, C, <= kWanVaeCacheFrames, H, W]; undefined before the first chunk
  bool visited = false;  // upsample3d: its first chunk passed by without time_conv (upstream 'Rep')
};

class WanVaeCache {
 public:
  void start_chunk() { next_ = 0; }
  WanVaeCacheSlot& next_slot() {
    if (next_ == slots_.size()) slots_.emplace_back();
    return slots_[next_++];
  }

 private:
  std::vector<WanVaeCacheSlot> slots_;
  size_t next_ = 0;
};

}  // namespace svgear
