#pragma once
// read_video: a video file back into RGB frames (tests, the studio's history). .y4m files are
// parsed here without FFmpeg; anything else goes through FFmpeg's demuxers and decoders.

#include <filesystem>

#include "core/media/video.h"

namespace svgear {

// Decodes every frame to RGB24 in presentation order; fps comes from the stream. Frames that
// change size mid-stream are scaled to the first frame's size. Throws MediaError.
Video read_video(const std::filesystem::path& path);

}  // namespace svgear
