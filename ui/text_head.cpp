#include "ui/text_head.h"

namespace svgear {

QString text_head(const QString& text, int max_chars, const QString& tail) {
  if (text.size() <= max_chars) return text;
  const int kept = max_chars > 0 && text.at(max_chars - 1).isHighSurrogate() ? max_chars - 1 : max_chars;
  return text.left(kept) + tail;
}

}  // namespace svgear
