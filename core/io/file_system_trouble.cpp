#include "core/io/file_system_trouble.h"

namespace svgear {

UserError file_system_trouble(const std::string& doing, const std::filesystem::filesystem_error& e) {
  std::string message = doing + ": ";
  if (!e.path1().empty()) message += "'" + e.path1().string() + "'";
  if (!e.path2().empty()) message += " and '" + e.path2().string() + "'";
  if (!e.path1().empty()) message += ": ";
  return UserError(message + e.code().message());
}

}  // namespace svgear
