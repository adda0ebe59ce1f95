#pragma once
// The last Compare's result, kept on disk so that the Compare panel shows it again at the next
// start: its two videos as generated, exactly (frame archives, as the dense-run cache keeps them),
// and its figures. The difference map is made again from the videos as it is read. A folder of
// its own beside the dense-run cache, which trims and clears only its own folders:
//   compare.json, dense.frames, sparse.frames

#include <filesystem>
#include <optional>

#include "ui/compare_result.h"

namespace svgear {

// Replaces what `folder` held with `result`: written beside it and swapped in (replace_folder), so a
// write cut short leaves the last one, and a swap cut short where the file system moves file by
// file is refused by read_last_compare. Throws UserError (a full disk, a folder that cannot be
// written).
void keep_last_compare(const std::filesystem::path& folder, const CompareResult& result);

// The result kept in `folder`, difference map included; nullopt when none was kept. Throws
// UserError when one is there but cannot be read back whole (damaged, truncated, hand-edited).
std::optional<CompareResult> read_last_compare(const std::filesystem::path& folder);

}  // namespace svgear
