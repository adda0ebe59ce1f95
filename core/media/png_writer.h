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

// Writes folder/<stem>_0000.png, folder/<stem>_0001.png, ... (creating the folder) and returns the
// paths in frame order. Older <stem>_NNNN.png files beyond this video's frames are removed, so the
// folder always holds exactly this video. The frames are written into a hidden staging folder
// inside `folder` and renamed in once all are written, so a failed write leaves an earlier video's
// frames as they were.
// Whether `file_name` is one write_png_frames writes: "<stem>_<digits>.png".
bool is_frame_file_name(std::string_view file_name, std::string_view stem = "frame");

std::vector<std::filesystem::path> write_png_frames(const Video& video,
                                                    const std::filesystem::path& folder,
                                                    std::string_view stem = "frame");

}  // namespace svgear
