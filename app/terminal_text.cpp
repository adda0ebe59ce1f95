#include "app/terminal_text.h"

namespace svgear {

std::string printable(std::string_view text, bool keep_line_breaks) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xa0 &&
        static_cast<unsigned char>(text[i + 1]) >= 0x80) {
      out += '?';  // U+0080..U+009F, the C1 controls (U+009B is a CSI to some terminals)
      ++i;
    } else if ((c < 0x20 || c == 0x7f) && !(keep_line_breaks && (c == '\n' || c == '\t'))) {
      out += '?';
    } else {
      out += char(c);
    }
  }
  return out;
}

}  // namespace svgear
