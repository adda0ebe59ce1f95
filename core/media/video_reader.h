#pragma once
// read_video: a video file back into RGB frames (tests, the studio's history). .y4m files are
// parsed here without FFmpeg; anything else goes through FFmpeg's demuxers and decoders.

#include <cstddef>
#include <filesystem>
#include <limits>

#include "core/cancel_token.h"
#include "core/media/video.h"

namespace svgear {

// Decodes every frame to RGB24 in presentation order, converted as the ffmpeg command converts it
// by default (the stream's matrix and range, swscale's default flags): the bytes other tools, the
// papers' metric.py among them, read from the same file. fps comes from the stream. Frames that
// change size mid-stream are scaled to the first frame's size. Throws MediaError, or Cancelled
// once `cancel` is set (polled before each frame of a .y4m, each packet otherwise): the studio
// stops a library reload that a newer action replaced. Frames past `max_bytes` of RGB fail with a
// MediaError as they are decoded: a short file can decode to tens of GB (callers pass
// decoded_video_budget(), core/pipeline/device_info.h).
Video read_video(const std::filesystem::path& path, const CancelToken* cancel = nullptr,
                 size_t max_bytes = std::numeric_limits<size_t>::max());

// write_mp4 pads an odd width or height by one (4:2:0 needs even sizes), so such an MP4 decodes one
// column or row larger than the frames it was given. Crops `video` to height x width when it is
// exactly that padded size and leaves any other size alone, for the caller's own size check:
// callers that know the size written (a run record, the frames still in memory) call it after
// read_video, before comparing frames or sizes.
void crop_mp4_padding(Video& video, int height, int width);

}  // namespace svgear
