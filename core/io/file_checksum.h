#pragma once
// file_checksum: a file's bytes as 64-bit FNV-1a, in hex ("fnv1a64:cbf29ce484222325"). A run record
// holds its video's, so a compare that finds the record again reuses the video only if it is the
// one the run wrote (a damaged or swapped dense.mp4 gave a wrong PSNR without a word). Not a defence
// against someone forging both; FNV is stable across builds and machines, unlike std::hash.

#include <filesystem>
#include <optional>
#include <string>

namespace svgear {

// Nullopt when the file cannot be read whole.
std::optional<std::string> file_checksum(const std::filesystem::path& path);

}  // namespace svgear
