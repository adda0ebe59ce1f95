#include "core/io/atomic_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/io/file_checksum.h"
#include "core/io/file_name_limit.h"
#include "core/io/unique_name.h"
#include "core/user_error.h"

namespace svgear {
namespace {

std::filesystem::path make_temp_path(const std::filesystem::path& path) {
  const std::string tail = ".tmp-" + unique_name_suffix();
  return path.parent_path() / (cut_file_stem(path.filename().string(), tail.size()) + tail);
}

// The rename that commits a write replaces whatever has the name: a device (/dev/null, for root),
// a FIFO or a link would become a plain file, the link's target left as it was.
void refuse_special_file(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::symlink_status(path, ec);
  if (ec || !std::filesystem::exists(status) || std::filesystem::is_regular_file(status) ||
      std::filesystem::is_directory(status)) {
    return;
  }
  const std::string what = std::filesystem::is_symlink(status) ? "a link (give the path it points to)"
                                                               : "not a regular file (a device, a FIFO or a socket)";
  throw UserError("cannot write '" + shown_path(path) + "': it is " + what + ", which the write would replace");
}

}  // namespace

void sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

AtomicFile::AtomicFile(std::filesystem::path path) : path_(std::move(path)) {
  refuse_special_file(path_);
  if (path_.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
  }
  // O_EXCL: a temporary name is never shared, not even with a writer whose random suffix clashed.
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    temp_path_ = make_temp_path(path_);
    fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd >= 0) {
    file_ = ::fdopen(fd, "wb");
    if (!file_) {
      const int error = errno;
      ::close(fd);
      std::error_code ignored;
      std::filesystem::remove(temp_path_, ignored);
      errno = error;
    }
  }
  if (!file_) {
    const int error = errno;
    throw UserError("cannot write '" + shown_path(path_) + "': " + std::strerror(error) +
                    (error == EACCES || error == EPERM || error == EROFS || error == ENOENT || error == ENOTDIR
                         ? " (choose a writable output folder)"
                         : ""));
  }
  // The temporary files of writers to this path that were killed (SIGKILL, a power cut): no
  // destructor of theirs ran.
  const std::string temp_name = temp_path_.filename().string();
  remove_abandoned(temp_path_.parent_path(), std::string_view(temp_name).substr(0, temp_name.rfind(".tmp-") + 5));
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove(temp_path_, ec);
  }
}

void AtomicFile::write(const void* data, size_t bytes) {
  if (bytes == 0) return;
  if (std::fwrite(data, 1, bytes, file_) != bytes) {
    throw UserError("writing '" + shown_path(path_) + "' failed: " + std::strerror(errno) +
                    " (is the disk full?)");
  }
}

void AtomicFile::commit() { commit_as(path_); }

std::string AtomicFile::checksum() {
  if (committed_) throw std::logic_error("AtomicFile: '" + path_.string() + "' is committed already");
  if (std::fflush(file_) != 0) throw UserError("writing '" + shown_path(path_) + "' failed: " + std::strerror(errno));
  std::optional<std::string> sum = file_checksum(temp_path_);
  if (!sum) {
    throw UserError("cannot read back '" + shown_path(temp_path_) + "', the file being written as '" +
                    shown_path(path_) + "'");
  }
  return std::move(*sum);
}

void AtomicFile::commit_as(const std::filesystem::path& other) {
  if (committed_) throw std::logic_error("AtomicFile: '" + path_.string() + "' is committed already");
  // The commit is a rename, which cannot leave the file system; the temporary file is beside path_.
  if (other.parent_path() != path_.parent_path()) {
    throw std::invalid_argument("AtomicFile::commit_as: '" + other.string() + "' is not in the folder of '" +
                                path_.string() + "'");
  }
  refuse_special_file(other);
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
    throw UserError("writing '" + shown_path(other) + "' failed: " + std::strerror(errno));
  }
  // Closed only once renamed: a rename that fails leaves the file as it was, for another try.
  std::error_code ec, exists_ec;
  const bool replaces = std::filesystem::exists(std::filesystem::symlink_status(other, exists_ec));
  std::filesystem::rename(temp_path_, other, ec);
  if (ec) {
    throw UserError((replaces ? "cannot replace '" : "cannot write '") + shown_path(other) + "': " + ec.message());
  }
  path_ = other;
  committed_ = true;
  std::fclose(file_);  // its data is synced: a close error cannot lose it
  file_ = nullptr;
  sync_folder(path_.parent_path());
}

void write_json_atomically(const std::filesystem::path& path, const nlohmann::json& value) {
  write_file_atomically(path, value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

void replace_folder(const std::filesystem::path& staged, const std::filesystem::path& folder) {
  std::error_code ec;
  if (!std::filesystem::exists(folder, ec)) {
    std::filesystem::rename(staged, folder, ec);
    if (ec) throw UserError("cannot move " + shown_path(staged) + " to " + shown_path(folder) + ": " + ec.message());
    sync_folder(folder.parent_path());
    return;
  }
  // Only a real folder is replaced: a file or a link by its name would be swapped out and deleted.
  if (!std::filesystem::is_directory(std::filesystem::symlink_status(folder, ec))) {
    throw UserError("cannot replace " + shown_path(folder) + ": it is not a folder (a file, or a link)");
  }
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, folder.c_str(), RENAME_EXCHANGE) == 0) {
    sync_folder(folder.parent_path());
    std::filesystem::remove_all(staged, ec);  // now the old folder
    return;
  }
  // Only where the file system cannot exchange: any other error is the user's to see.
  if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
    throw UserError("cannot replace " + shown_path(folder) + ": " + std::strerror(errno));
  }
  // One entry at a time, listed first (renaming while iterating is unspecified), model.json last,
  // so a failure midway leaves the old manifest naming the old step, not the new weights' step.
  std::vector<std::filesystem::path> entries;
  for (std::filesystem::directory_iterator it(staged, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path());
  }
  if (ec) throw UserError("cannot list " + shown_path(staged) + ": " + ec.message());
  std::stable_partition(entries.begin(), entries.end(), [](const auto& p) { return p.filename() != "model.json"; });
  for (const std::filesystem::path& entry : entries) {
    std::error_code moved;
    std::filesystem::rename(entry, folder / entry.filename(), moved);
    if (moved) {
      throw UserError("cannot move " + shown_path(entry) + " into " + shown_path(folder) + ": " + moved.message());
    }
  }
  sync_folder(folder);
  std::filesystem::remove(staged, ec);
}

void create_output_folder(const std::filesystem::path& folder) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec || !std::filesystem::is_directory(folder)) {
    throw UserError("cannot create the output folder " + shown_path(folder) + ": " +
                    (ec ? ec.message() : std::string("a file of that name is in the way")));
  }
}

void check_output_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (file.empty() || !file.has_filename()) {
    throw UserError("cannot write '" + shown_path(file) + "': " +
                    (file.empty() ? "no file name" : "it names a folder (a trailing '/'): give a file name"));
  }
  if (std::filesystem::is_directory(file, ec)) throw UserError("cannot write '" + shown_path(file) + "': it is a folder");
  refuse_special_file(file);
  check_file_name_lengths(file);
  check_output_folder(file.parent_path());
}

void check_output_folder(const std::filesystem::path& folder) {
  check_file_name_lengths(folder);
  std::filesystem::path existing = folder.empty() ? std::filesystem::path(".") : folder;
  std::error_code ec;
  // symlink_status: a broken link exists as a link, and stops the walk.
  while (!std::filesystem::exists(std::filesystem::symlink_status(existing, ec)) && existing.has_parent_path() &&
         existing != existing.parent_path()) {
    existing = existing.parent_path();
  }
  if (!std::filesystem::exists(std::filesystem::symlink_status(existing, ec))) existing = ".";
  if (std::filesystem::is_symlink(existing, ec) && !std::filesystem::exists(existing, ec)) {
    throw UserError("cannot write in " + shown_path(folder) + ": " + shown_path(existing) + " is a broken link");
  }
  if (!std::filesystem::is_directory(existing, ec)) {
    throw UserError("cannot write in " + shown_path(folder) + ": " + shown_path(existing) + " is a file, not a folder");
  }
  // A file made, not access(W_OK), which root passes in /proc and /sys: an unnamed O_TMPFILE where
  // the file system has them (nothing to remove, no name left by a crash), else a named file
  // removed at once.
  int fd = ::open(existing.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  int error = fd < 0 ? errno : 0;
  if (fd < 0 && (error == EOPNOTSUPP || error == EISDIR || error == EINVAL)) {
    std::string probe = (existing / ".svgear-write-check-XXXXXX").string();
    fd = ::mkstemp(probe.data());
    error = fd < 0 ? errno : 0;
    if (fd >= 0) ::unlink(probe.c_str());
  }
  if (fd < 0) {
    throw UserError("cannot write in " + shown_path(folder) + ": " +
                    (error == EACCES   ? "no permission to write in " + shown_path(existing)
                     : error == ENOENT ? shown_path(existing) + " refuses new files"  // /proc: its errno reads "no such file"
                                       : shown_path(existing) + " refuses new files (" + std::strerror(error) + ")"));
  }
  ::close(fd);
}

}  // namespace svgear
