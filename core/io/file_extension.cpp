#include "core/io/file_extension.h"

#include <cctype>

namespace svgear {

std::string lowercase_extension(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  for (char& c : extension) c = char(std::tolower(static_cast<unsigned char>(c)));
  return extension;
}

bool has_pickle_extension(const std::filesystem::path& path) {
  const std::string extension = lowercase_extension(path);
  return extension == ".pth" || extension == ".pt" || extension == ".ckpt" || extension == ".bin";
}

}  // namespace svgear
