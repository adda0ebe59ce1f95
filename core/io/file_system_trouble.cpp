#include "core/io/file_system_trouble.h"

#include <cerrno>
#include <cstring>

namespace svgear {

UserError file_system_trouble(const std::string& doing, const std::filesystem::filesystem_error& e) {
  std::string message = doing + ": ";
  if (!e.path1().empty()) message += "'" + e.path1().string() + "'";
  if (!e.path2().empty()) message += " and '" + e.path2().string() + "'";
  if (!e.path1().empty()) message += ": ";
  return UserError(message + e.code().message());
}

std::string open_failure(int err) {
  if (err == ENOENT) return "no such file (check the path)";
  if (err == EACCES) return "permission denied (make the file readable)";
  return err != 0 ? std::strerror(err) : "it could not be opened";
}

}  // namespace svgear
