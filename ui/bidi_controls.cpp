#include "ui/bidi_controls.h"

namespace svgear {

QString bidi_controls_shown(const QString& text) {
  QString shown;
  shown.reserve(text.size());
  for (const QChar c : text) {
    const char16_t u = c.unicode();
    if ((u >= 0x202A && u <= 0x202E) || (u >= 0x2066 && u <= 0x2069)) {
      shown += QString("[U+%1]").arg(QString::number(u, 16).toUpper());
    } else {
      shown += c;
    }
  }
  return shown;
}

}  // namespace svgear
