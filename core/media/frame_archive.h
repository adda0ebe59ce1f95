#pragma once
// A frame archive (".frames"): a Video's RGB frames kept exactly, each frame deflated on its own.
// Compare's dense reference lives in one so that a later compare measures the attention's effect
// on the frames as generated, not H.264's loss on top of it (a run 83 dB from dense read as
// identical after encoding). Our own format, never shown to users as a video:
//   "SVGFRAM1", int32 frames, int32 height, int32 width (little endian), float64 fps,
//   then per frame: uint32 byte count, a zlib stream of height*width*3 bytes.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>

#include "core/media/video.h"

namespace svgear {

// Writes `video` to `path` atomically; throws MediaError.
void write_frame_archive(const Video& video, const std::filesystem::path& path);

// Whether `path` starts as a frame archive does (its magic): what an earlier compare wrote, as
// opposed to a user's own file of that name.
bool is_frame_archive(const std::filesystem::path& path);

// Reads a frame archive back; throws MediaError for a file that is not one, is truncated or
// damaged, or whose frames would take more than `max_bytes` of memory (checked from the header,
// before any is allocated).
Video read_frame_archive(const std::filesystem::path& path, size_t max_bytes = std::numeric_limits<size_t>::max());

}  // namespace svgear
