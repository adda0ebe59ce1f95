#pragma once
// write_y4m: uncompressed YUV4MPEG2 (4:4:4, full-range BT.601), the output that needs no codec
// library. Every player built on FFmpeg opens it, and read_video reads it back without FFmpeg.

#include <filesystem>
#include <string>

#include "core/media/video.h"

namespace svgear {

// Writes `video` to `path` atomically. The frame rate is stored as a rational (16 -> 16:1,
// 23.976 -> 24000:1001). RGB -> YUV -> RGB loses at most a level or two per channel. Returns the
// file's checksum (AtomicFile::checksum), taken before it takes its name.
std::string write_y4m(const Video& video, const std::filesystem::path& path);

}  // namespace svgear
