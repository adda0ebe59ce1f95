#pragma once
// counted(7, "step", "steps") is "7 steps", counted(1, ...) "1 step". Qt's tr("%n step(s)", nullptr, n)
// shows the "(s)" as typed unless a translation supplies the plural forms, and the studio ships none.

#include <QString>

namespace svgear {

inline QString counted(long long n, const QString& one, const QString& many) {
  return QString::number(n) + ' ' + (n == 1 ? one : many);
}

}  // namespace svgear
