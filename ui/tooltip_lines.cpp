#include "ui/tooltip_lines.h"

namespace svgear {

QString tooltip_lines(const QString& text, int width) {
  QString out;
  int line = 0;  // characters since the last break
  for (int i = 0; i < text.size(); ++i) {
    out += text[i];
    line = text[i] == '\n' ? 0 : line + 1;
    const bool may_break = text[i] == ' ' || text[i] == '/';
    if (i + 1 < text.size() && text[i + 1] != '\n' && !text[i].isHighSurrogate() &&
        ((may_break && line >= width * 3 / 4) || line >= width)) {
      out += '\n';
      line = 0;
    }
  }
  return out;
}

}  // namespace svgear
