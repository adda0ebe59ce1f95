#pragma once
// file_extension: what kind of file a path names, by its extension, case-insensitively (".MP4" is
// an MP4, "MODEL.PTH" a pickle), the way users' file managers and other tools treat them.

#include <filesystem>
#include <string>

namespace svgear {

// ".mp4" for "Clip.MP4"; empty when the name has no extension.
std::string lowercase_extension(const std::filesystem::path& path);

// A PyTorch pickle (.pth, .pt, .ckpt, .bin): never opened, since loading one can run code.
bool has_pickle_extension(const std::filesystem::path& path);

}  // namespace svgear
