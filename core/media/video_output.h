#pragma once
// write_video: the one call the engine and the studio use to save a result. The format follows
// the requested path; an MP4 request in a build without FFmpeg (or without its libx264) still
// produces a playable file, <stem>.y4m.

#include <filesystem>
#include <string>

#include "core/media/video.h"

namespace svgear {

enum class VideoFormat { Unset, Mp4, Y4m, PngFrames };

// .mp4 -> Mp4, .y4m -> Y4m (any case); no extension or a trailing '/' -> PngFrames (a folder);
// any other extension -> Unset.
VideoFormat video_format_for(const std::filesystem::path& path);

struct VideoOutputResult {
  std::filesystem::path path;  // what was written: the file, or the PNG folder
  VideoFormat format = VideoFormat::Unset;
  std::string note;            // when the output differs from the request: Y4M for MP4, an MP4 padded to even sides
  std::string checksum;        // the file's, as written (AtomicFile::checksum); empty for PNG frames
};

// Throws MediaError when write_video could not write `requested` (checked at video_output_path's
// path): an unsupported extension, a path on the way that is a file where a folder is needed, or a
// folder it may not write in. Creates nothing: callers run it before the work that makes the video,
// so a bad path costs no generation.
void check_video_output(const std::filesystem::path& requested);

// The path write_video(…, requested) writes: `requested`, or <stem>.y4m for an MP4 in a build
// without FFmpeg. What a run record is checked for before the work (run_record.h).
std::filesystem::path video_output_path(const std::filesystem::path& requested);

// For an MP4 request this build writes as Y4M, the sentence that says so (for a warning before the
// work); empty otherwise.
std::string mp4_fallback_note(const std::filesystem::path& requested);

// Writes `video` in the format of `requested`. When MP4 is requested but FFmpeg is missing,
// writes <stem>.y4m instead and says so in `note`.
// Throws MediaError for an unsupported extension and for anything the writers reject.
VideoOutputResult write_video(const Video& video, const std::filesystem::path& requested);

// The same, with MP4 support given explicitly (tests exercise the fallback with it).
VideoOutputResult write_video(const Video& video, const std::filesystem::path& requested,
                              bool mp4_available);

}  // namespace svgear
