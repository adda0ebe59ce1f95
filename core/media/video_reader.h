#pragma once
// read_video: a video file back into RGB frames (tests, the studio's history). .y4m files are
// parsed here without FFmpeg; anything else goes through FFmpeg's demuxers and decoders.

#include <filesystem>

#include "core/cancel_token.h"
#include "core/media/video.h"

namespace svgear {

// Decodes every frame to RGB24 in presentation order; fps comes from the stream. Frames that
// change size mid-stream are scaled to the first frame's size. Throws MediaError, or Cancelled
// once `cancel` is set (polled before each frame of a .y4m, each packet otherwise): the studio
// stops a library reload that a newer action replaced.
Video read_video(const std::filesystem::path& path, const CancelToken* cancel = nullptr);

}  // namespace svgear
