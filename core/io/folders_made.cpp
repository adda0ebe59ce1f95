#include "core/io/folders_made.h"

namespace svgear {

FoldersMade::FoldersMade(const std::filesystem::path& folder) {
  std::error_code ec;
  std::filesystem::path prefix;
  for (const std::filesystem::path& part : folder) {
    prefix /= part;
    if (!part.empty() && part != "." && part != ".." && !std::filesystem::exists(prefix, ec)) {
      missing_.push_back(prefix);
    }
  }
}

void FoldersMade::remove_empty() const {
  std::error_code ec;  // remove() takes a folder only when it is empty
  for (auto it = missing_.rbegin(); it != missing_.rend(); ++it) std::filesystem::remove(*it, ec);
}

}  // namespace svgear
