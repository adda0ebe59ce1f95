#include "core/io/file_name_limit.h"

#include <algorithm>

#include "core/user_error.h"

namespace svgear {

std::string cut_file_stem(std::string_view stem, size_t tail_bytes) {
  const size_t room = tail_bytes < kMaxFileNameBytes ? kMaxFileNameBytes - tail_bytes : 0;
  size_t keep = std::min(stem.size(), room);
  // Back off continuation bytes (10xxxxxx) so the cut falls before a character's first byte.
  while (keep > 0 && keep < stem.size() && (static_cast<unsigned char>(stem[keep]) & 0xC0) == 0x80) --keep;
  return std::string(stem.substr(0, keep));
}

void check_file_name_lengths(const std::filesystem::path& path) {
  for (const std::filesystem::path& part : path) {
    const std::string name = part.string();
    if (name.size() > kMaxFileNameBytes) {
      throw UserError("cannot write '" + path.string() + "': the name " + quoted_word(name) + " is longer than the " +
                      std::to_string(kMaxFileNameBytes) + " bytes a file system takes. Choose a shorter name.");
    }
  }
}

}  // namespace svgear
