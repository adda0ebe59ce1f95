#pragma once
// MediaError: a video could not be written or read (bad size, unwritable folder, broken file,
// missing codec). The message names the file and says what to do. Also the shape check every
// writer starts with, so an empty or inconsistent Video fails the same way everywhere.

#include <filesystem>
#include <string>

#include "core/media/video.h"
#include "core/user_error.h"

namespace svgear {

class MediaError : public UserError {
 public:
  using UserError::UserError;
};

inline void check_video_for_output(const Video& video, const std::filesystem::path& path) {
  const std::string where = "cannot write '" + path.string() + "': ";
  if (video.frames <= 0) throw MediaError(where + "the video has no frames");
  if (video.height <= 0 || video.width <= 0) {
    throw MediaError(where + "the frame size " + std::to_string(video.width) + "x" +
                     std::to_string(video.height) + " is empty");
  }
  if (!(video.fps > 0)) throw MediaError(where + "the frame rate must be positive");
  if (video.rgb.size() != video.frame_bytes() * size_t(video.frames)) {
    throw MediaError(where + "the pixel buffer holds " + std::to_string(video.rgb.size()) +
                     " bytes, not frames*height*width*3 = " +
                     std::to_string(video.frame_bytes() * size_t(video.frames)));
  }
}

}  // namespace svgear
