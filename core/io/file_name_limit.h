#pragma once
// file_name_limit: a file name past the file system's limit fails only when the file is made,
// often after the work that produced it. Linux file systems (ext4, xfs, btrfs, tmpfs) take 255
// bytes per name, so outputs check their names against that before any work, and the names we
// derive from a user's (temporary files, "<name>-partial") are cut to fit.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace svgear {

inline constexpr size_t kMaxFileNameBytes = 255;

// `stem` cut (never inside a UTF-8 character) so that it and `tail_bytes` more fit in
// kMaxFileNameBytes: the start of a derived name whose tail ("-partial.json") is added after.
std::string cut_file_stem(std::string_view stem, size_t tail_bytes);

// Throws UserError when a component of `path` is longer than kMaxFileNameBytes, naming it.
void check_file_name_lengths(const std::filesystem::path& path);

}  // namespace svgear
