#pragma once
// write_mp4: H.264 (libx264, yuv420p, BT.709 limited range) in an MP4 container, written
// atomically. Needs FFmpeg at build time: mp4_supported() tells callers at run time, and
// write_video (video_output.h) falls back to Y4M + PNG frames without it.

#include <filesystem>
#include <string>

#include "core/media/video.h"

namespace svgear {

struct Mp4Options {
  int crf = 18;                   // x264 constant rate factor: 0 (lossless) .. 51 (worst)
  std::string preset = "medium";  // x264 speed preset: ultrafast .. placebo
  bool faststart = true;          // index at the front, so players start before the file ends
};

bool mp4_supported();

// Every frame gets exactly 1/fps of display time, the last one included. The file is a function
// of the frames and options (and of the encoder's thread count, which follows the CPU's cores).
// 4:2:0 needs even sizes: an odd width or height is padded by repeating the last column or row, so
// such a file decodes one pixel wider or taller than `video` (crop_mp4_padding, video_reader.h,
// takes it off). Returns the file's checksum (AtomicFile::checksum), taken before it takes its
// name. Throws MediaError.
std::string write_mp4(const Video& video, const std::filesystem::path& path,
               const Mp4Options& options = {});

}  // namespace svgear
