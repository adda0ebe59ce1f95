#pragma once
// PNG output: single 8-bit RGB images and a video as a folder of numbered frames. Needs only zlib,
// so it works in every build (the fallback when FFmpeg is missing).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/media/video.h"

namespace svgear {

// The bytes of a PNG file for `rgb` ([height, width, 3], row-major), with a text chunk naming svgear
// as its software.
std::string encode_png(const uint8_t* rgb, int height, int width);

// Whether `path` is a PNG that encode_png wrote (its text chunk "Software: svgear" first after the
// header): what an output may replace without the user's word.
bool is_svgear_png(const std::filesystem::path& path);

// Writes encode_png(...) to `path` atomically.
void write_png(const std::filesystem::path& path, const uint8_t* rgb, int height, int width);

// Whether `file_name` is one write_png_frames writes: "<stem>_<digits>.png".
bool is_frame_file_name(std::string_view file_name, std::string_view stem = "frame");

// The name write_png_frames gives frame `index` of a video of `frames` frames: "<stem>_0007.png",
// its number padded to four digits, or to as many as the last frame's number has.
std::string frame_file_name(int index, int frames, std::string_view stem = "frame");

// Writes folder/<stem>_0000.png, folder/<stem>_0001.png, ... (creating the folder) and returns the
// paths in frame order. Older <stem>_NNNN.png files beyond this video's frames are removed, so the
// folder always holds exactly this video (the CLI first checks that the earlier run's record lists
// them all: check_output_replaces_only_a_run). The frames are written into a hidden staging folder
// inside `folder` and renamed in once all are written, so a failed write leaves an earlier video's
// frames as they were.
std::vector<std::filesystem::path> write_png_frames(const Video& video,
                                                    const std::filesystem::path& folder,
                                                    std::string_view stem = "frame");

}  // namespace svgear
