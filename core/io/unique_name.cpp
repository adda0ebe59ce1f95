#include "core/io/unique_name.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>

#include <fcntl.h>
#include <unistd.h>

namespace svgear {

std::string unique_name_suffix() {
  std::random_device device;  // the kernel's entropy: no state to share between threads or a fork
  const uint64_t token = (uint64_t(device()) << 32) | device();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(token));
  return std::to_string(::getpid()) + "-" + hex;
}

namespace {

// "<pid>-<16 hex digits>" exactly: a name that merely starts with the prefix is not a writer's.
bool is_unique_name_suffix(std::string_view suffix) {
  const size_t dash = suffix.find('-');
  if (dash == 0 || dash == std::string_view::npos || suffix.size() != dash + 17) return false;
  const auto digits = [](std::string_view text, bool hex) {
    return std::all_of(text.begin(), text.end(), [hex](char c) {
      return (c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f');
    });
  };
  return digits(suffix.substr(0, dash), false) && digits(suffix.substr(dash + 1), true);
}

}  // namespace

std::filesystem::path create_unique_folder(const std::filesystem::path& parent, std::string_view prefix,
                                           std::error_code& ec) {
  // A clash of 64 random bits is never expected; the bound only keeps a broken generator finite.
  for (int attempt = 0; attempt < 16; ++attempt) {
    const std::filesystem::path folder = parent / (std::string(prefix) + unique_name_suffix());
    if (std::filesystem::create_directory(folder, ec)) return folder;
    if (ec) return {};
  }
  ec = std::make_error_code(std::errc::file_exists);
  return {};
}

void remove_abandoned(const std::filesystem::path& parent, std::string_view prefix) {
  const auto now = std::filesystem::file_time_type::clock::now();
  std::error_code ec;
  // Stepped with error codes: a range-for's ++ throws on a read error, and this never throws.
  for (std::filesystem::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::filesystem::directory_entry& item = *it;
    const std::string name = item.path().filename().string();
    if (!name.starts_with(prefix) || !is_unique_name_suffix(std::string_view(name).substr(prefix.size()))) continue;
    std::error_code time_error;
    const auto written = item.last_write_time(time_error);
    if (time_error || now - written < kAbandonedAfter) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    const bool gone = pid <= 0 || (::kill(pid_t(pid), 0) != 0 && errno == ESRCH);
    if (gone) {
      std::error_code ignored;
      std::filesystem::remove_all(item.path(), ignored);
    }
  }
}

void remove_killed_writers_temp_files(const std::filesystem::path& parent,
                                      const std::function<bool(std::string_view base)>& ours) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t tmp = name.rfind(".tmp-");
    if (tmp == std::string::npos) continue;
    const std::string_view base = std::string_view(name).substr(0, tmp);
    if (!is_unique_name_suffix(std::string_view(name).substr(tmp + 5)) || !ours(base)) continue;
    std::error_code ignored;
    std::filesystem::remove(it->path(), ignored);
  }
}

bool rename_without_replacing(const std::filesystem::path& from, const std::filesystem::path& to, std::error_code& ec) {
  ec.clear();
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
    ec = std::error_code(errno, std::generic_category());
    return false;
  }
  if (std::filesystem::exists(std::filesystem::symlink_status(to, ec)) || ec) return false;
  std::filesystem::rename(from, to, ec);
  return !ec;
}

}  // namespace svgear
