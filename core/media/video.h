#pragma once
// Video: decoded RGB frames in memory, the engine's output and the UI's input. Plain data, no
// LibTorch or Qt, so every layer can hold one.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace svgear {

// The largest width or height a video file may declare: a corrupt header must not ask for terabytes.
inline constexpr int kMaxVideoSide = 16384;

struct Video {
  int frames = 0;
  int height = 0;
  int width = 0;
  double fps = 16.0;
  std::vector<uint8_t> rgb;  // [frames, height, width, 3], row-major, 8-bit sRGB

  size_t frame_bytes() const { return size_t(height) * width * 3; }
  uint8_t* frame(int f) { return rgb.data() + f * frame_bytes(); }
  const uint8_t* frame(int f) const { return rgb.data() + f * frame_bytes(); }
  bool empty() const { return frames == 0; }
};

// Frames shared between threads without a copy (the studio's worker, window and exporter): a Wan
// clip is ~0.1 GB.
using SharedVideo = std::shared_ptr<const Video>;

}  // namespace svgear
