#pragma once
// AtomicFile: write a file so readers see either the old content or the complete new one.
// Bytes go to "<path>.tmp-<pid>-<random>", created exclusively in the same folder (the name cut to
// fit the file system's 255 bytes); commit() flushes, fsyncs and renames it over <path>.
// Destroying an uncommitted AtomicFile removes the temporary file, so a failed or cancelled write
// never leaves a half-written output behind; one whose writer was killed (no destructor ran) is
// removed by the next write to that path, once its process is gone and an hour has passed
// (remove_abandoned, core/io/unique_name.h).

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>  // the full header only where JSON is built: it is heavy

namespace svgear {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);  // throws UserError if the folder is not writable
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t bytes);  // throws UserError on a short write (disk full)
  void write(std::string_view text) { write(text.data(), text.size()); }
  void commit();
  // file_checksum (file_checksum.h) of the bytes written so far, read back from the temporary file:
  // the checksum of what commit() puts in place, which a reader of the committed path could not
  // vouch for (another writer may have replaced it by then).
  std::string checksum();
  // Commits under `other`, a name in the same folder, instead (a cancelled run's "-partial" file).
  void commit_as(const std::filesystem::path& other);

  const std::filesystem::path& path() const { return path_; }
  // The temporary path, for libraries that open files themselves (FFmpeg); see write_file_atomically.
  const std::filesystem::path& temp_path() const { return temp_path_; }
  std::FILE* stream() { return file_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

// Makes the renames in `folder` durable: a file's data is synced before its rename, but the new
// name lives in the folder's own blocks, which a crash could lose. Best effort: some file systems
// refuse a folder's fsync.
void sync_folder(const std::filesystem::path& folder);

// Writes `bytes` to `path` atomically.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// `value` as indented JSON and a final newline, written atomically: run records, reports,
// manifests. A string's bytes that are not UTF-8 (a folder's name) become U+FFFD instead of failing
// the write after the work that produced it.
void write_json_atomically(const std::filesystem::path& path, const nlohmann::json& value);

// Puts the folder `staged` (complete, on the same file system) in place of `folder` in one step
// (renameat2's RENAME_EXCHANGE, then the old content is removed), so readers see the old folder or
// the new one, never files of both: an export whose weights and model.json must agree. Where the
// file system cannot exchange, each file moves by its own rename, model.json last. Throws UserError,
// also when `folder` is a file or a link (it would be swapped out and deleted).
void replace_folder(const std::filesystem::path& staged, const std::filesystem::path& folder);

// Creates the output folder `folder` and its parents (a no-op when it exists); throws UserError
// naming it when it cannot be (a file in the way, no permission).
void create_output_folder(const std::filesystem::path& folder);

// Throws UserError when create_output_folder(folder) would (a name in it too long, say), or when
// the folder could not be written in: the nearest part of the path that exists (a link followed)
// is a file, a broken link or a folder that takes no new file (no permission, a read-only or
// virtual file system). Leaves nothing behind (its test file is removed at once): commands run it
// before their work.
void check_output_folder(const std::filesystem::path& folder);

// Throws UserError when write_file_atomically(file, …) could not write: a path ending in '/', a
// folder by that name, a name longer than the file system takes, or a folder check_output_folder
// refuses. Leaves nothing behind: for results written after long work.
void check_output_file(const std::filesystem::path& file);

}  // namespace svgear
