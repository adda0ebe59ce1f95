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
      throw UserError("cannot write '" + shown_path(path) + "': the name " + quoted_word(name) + " is longer than the " +
                      std::to_string(kMaxFileNameBytes) + " bytes a file system takes. Choose a shorter name.");
    }
  }
  if (path.native().size() > kMaxPathBytes) {
    throw UserError("cannot write '" + shown_path(path) + "': the path is " + std::to_string(path.native().size()) +
                    " bytes long, and Linux takes 4095 (" + std::to_string(kMaxPathBytes) +
                    " here, leaving room for the files named from it). Choose a shorter path.");
  }
}

std::string shown_path(const std::filesystem::path& path) {
  const std::string& text = path.native();
  constexpr size_t kWhole = 240, kStart = 120, kEnd = 100;
  if (text.size() <= kWhole) return text;
  // Cuts before a UTF-8 character's first byte, never inside one (at most 3 bytes back: past them
  // the bytes are no UTF-8, and any cut will do).
  const auto at_character = [&](size_t at) {
    for (int back = 0; back < 3 && at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80; ++back) --at;
    return at;
  };
  return text.substr(0, at_character(kStart)) + "…" + text.substr(at_character(text.size() - kEnd));
}

}  // namespace svgear
