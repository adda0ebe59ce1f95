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
// Linux's PATH_MAX (4096 with the terminating NUL) less room for the names made from an output's:
// ".tmp-<pid>-<16 hex>", "-partial", ".json", and a training run's files inside its folder
// ("/.model.export-…/model.safetensors.tmp-…", ~86 bytes).
inline constexpr size_t kMaxPathBytes = 4095 - 128;

// `stem` cut (never inside a UTF-8 character) so that it and `tail_bytes` more fit in
// kMaxFileNameBytes: the start of a derived name whose tail ("-partial.json") is added after.
std::string cut_file_stem(std::string_view stem, size_t tail_bytes);

// Throws UserError when a component of `path` is longer than kMaxFileNameBytes, naming it, or the
// path itself longer than kMaxPathBytes.
void check_file_name_lengths(const std::filesystem::path& path);

// `path` as a message quotes it: whole up to 240 bytes, else its start and end around "…" (a path
// of a thousand folders would fill the terminal and hide the message).
std::string shown_path(const std::filesystem::path& path);

}  // namespace svgear
