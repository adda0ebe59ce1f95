#pragma once
// Names of temporary files and staging folders that no other writer can hold: "<pid>-<random>".
// The pid alone is not enough: two containers sharing a folder can each have a process 4711, and a
// name reused after a crash would be truncated or removed under its new owner. The pid stays first
// so that a cleanup can tell a living writer's leftovers from a dead one's.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

namespace svgear {

// "<pid>-<16 hex digits>", fresh at each call.
std::string unique_name_suffix();

// Creates and returns a new, empty folder `parent / (prefix + unique_name_suffix())`; mkdir's own
// exclusivity guarantees nobody else holds it. Sets `ec` (returning an empty path) when `parent`
// refuses it.
std::filesystem::path create_unique_folder(const std::filesystem::path& parent, std::string_view prefix,
                                           std::error_code& ec);

// Removes the folder `path` and all it holds when it goes out of scope, best effort: a staging or
// scratch folder from create_unique_folder, whether the work in it succeeded (and moved its files
// out) or threw.
struct RemovedAtScopeEnd {
  std::filesystem::path path;
  ~RemovedAtScopeEnd() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

// Removes what `parent` holds under `prefix` + a unique_name_suffix() whose process is gone, untouched for
// kAbandonedAfter: a writer that was killed or crashed midway. A living writer's (kill(pid, 0) does
// not say ESRCH) stay, and so does a recent one's: a pid is only this pid namespace's, and a writer
// in another container sharing the folder may hold a number that is free here. Best effort.
inline constexpr std::chrono::minutes kAbandonedAfter{60};
void remove_abandoned(const std::filesystem::path& parent, std::string_view prefix);

// For a folder its caller holds locked against every other writer (a training run's), before it
// writes there: removes the temporary files ("<base>.tmp-" + a unique_name_suffix(), AtomicFile's)
// of writers killed midway, whatever their pid (a container's every run may be pid 1) and however
// recent, for each base `ours` accepts. remove_abandoned, which cannot know that no other writer is
// there, waits an hour and looks only at one name's. Best effort.
void remove_killed_writers_temp_files(const std::filesystem::path& parent,
                                      const std::function<bool(std::string_view base)>& ours);

// Renames `from` to `to` only when nothing has the name `to`: false (and `from` untouched) when
// something does. Other failures set `ec`. Where the file system cannot refuse a replacement
// itself (renameat2's RENAME_NOREPLACE), a check precedes a plain rename.
bool rename_without_replacing(const std::filesystem::path& from, const std::filesystem::path& to, std::error_code& ec);

}  // namespace svgear
