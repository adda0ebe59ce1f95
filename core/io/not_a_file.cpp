#include "core/io/not_a_file.h"

#include <algorithm>

namespace svgear {

namespace fs = std::filesystem;

std::string why_not_a_file(const fs::path& path) {
  std::error_code ec;
  const fs::file_status own = fs::symlink_status(path, ec);
  if (ec || own.type() == fs::file_type::not_found) return {};
  const fs::file_status target = fs::status(path, ec);
  if (own.type() == fs::file_type::symlink && (ec || target.type() == fs::file_type::not_found)) {
    if (ec == std::errc::too_many_symbolic_link_levels) return "a link loop";
    std::error_code read_error;
    const fs::path to = fs::read_symlink(path, read_error);
    const std::string link = read_error ? "link" : "link to " + to.string();
    // Not there (ENOENT, ENOTDIR) is broken; a target behind a folder one may not enter is not.
    if (!ec || ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
      return "a broken " + link;
    }
    return "a " + link + " that cannot be followed (" + ec.message() + ")";
  }
  switch (target.type()) {
    case fs::file_type::regular: return {};
    case fs::file_type::directory: return "a folder";
    case fs::file_type::fifo: return "a FIFO";
    case fs::file_type::block:
    case fs::file_type::character: return "a device";
    case fs::file_type::socket: return "a socket";
    default: return "not a regular file";
  }
}

std::string there_but_not_a_file(const fs::path& path) {
  const std::string why = why_not_a_file(path);
  return why.empty() ? why : " (there, but " + why + ")";
}

std::string entries_not_files(const std::vector<fs::path>& dirs, const std::function<bool(const fs::path&)>& wanted) {
  std::vector<std::string> found;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (!wanted(it->path())) continue;
      const std::string why = why_not_a_file(it->path());
      if (!why.empty()) found.push_back(it->path().string() + " (" + why + ")");
    }
  }
  if (found.empty()) return {};
  std::sort(found.begin(), found.end());
  std::string sentence = " There, but not files:";
  for (size_t i = 0; i < found.size(); ++i) sentence += (i ? ", " : " ") + found[i];
  return sentence + ".";
}

}  // namespace svgear
