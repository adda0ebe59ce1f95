#pragma once
// Names in a model folder that are there but hold no file to read: a broken link (into a Hugging
// Face cache's blobs/ whose download failed), a link loop, a folder, a FIFO or a device under a
// weight file's name. The folder scans skip them, and a "looked for …" message that said nothing of
// them pointed past the very name the user sees in the folder.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace svgear {

// Why `path` is no file to read: "a broken link to /x", "a link loop", "a folder", "a FIFO", "a
// device", "a socket"; empty for a regular file (through links) and for a name that is not there.
std::string why_not_a_file(const std::filesystem::path& path);

// " (there, but a FIFO)" after a path in a list of those looked for; empty for a file or no name.
std::string there_but_not_a_file(const std::filesystem::path& path);

// The entries directly in `dirs` that `wanted` accepts (by path) and that are no file, as a
// sentence for a "looked for …" message: " There, but not files: /m/a.safetensors (a broken link
// to /b), /m/c.safetensors (a FIFO)."; empty when there is none.
std::string entries_not_files(const std::vector<std::filesystem::path>& dirs,
                              const std::function<bool(const std::filesystem::path&)>& wanted);

}  // namespace svgear
