#include "app/terminal_text.h"

#include <cstdio>

namespace svgear {
namespace {

// The UTF-8 continuation bytes after 0xE2 of U+202A–U+202E (embeddings, overrides) and U+2066–
// U+2069 (isolates).
bool bidi_control(char second, char third) {
  const auto b = static_cast<unsigned char>(second), c = static_cast<unsigned char>(third);
  return (b == 0x80 && c >= 0xaa && c <= 0xae) || (b == 0x81 && c >= 0xa6 && c <= 0xa9);
}

}  // namespace

std::string printable(std::string_view text, bool keep_line_breaks) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xa0 &&
        static_cast<unsigned char>(text[i + 1]) >= 0x80) {
      out += '?';  // U+0080..U+009F, the C1 controls (U+009B is a CSI to some terminals)
      ++i;
    } else if (c == 0xe2 && i + 2 < text.size() && bidi_control(text[i + 1], text[i + 2])) {
      // As the studio shows them: an override would print the rest of the line backwards.
      char code[16];
      std::snprintf(code, sizeof code, "[U+%04X]", 0x2000u | ((unsigned(text[i + 1]) & 0x3f) << 6) |
                                                      (unsigned(text[i + 2]) & 0x3f));
      out += code;
      i += 2;
    } else if ((c < 0x20 || c == 0x7f) && !(keep_line_breaks && (c == '\n' || c == '\t'))) {
      out += '?';
    } else {
      out += char(c);
    }
  }
  return out;
}

}  // namespace svgear
