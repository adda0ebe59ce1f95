#pragma once
// A speedup as the studio writes it: three significant digits and "×" ("1.46×", "12.3×", "0.0499×"),
// trailing zeros kept, so a column of them reads alike ("0.350×" beside "0.402×", not "0.35×").
// Two decimals had read "0.00×" for a CPU's sparse run next to its dense one; `svgear compare`
// prints three significant digits too (printf's %g, without the trailing zeros).

#include <cmath>

#include <QObject>
#include <QString>

namespace svgear {

inline QString speedup_text(double ratio) {
  if (!std::isfinite(ratio) || ratio <= 0.0) return QString::number(ratio, 'g', 3) + "×";
  // printf's '#' keeps the trailing zeros, and a point after a whole number ("123."), dropped here.
  QString text = QString::asprintf("%#.3g", ratio);
  if (text.endsWith('.')) text.chop(1);
  return text + "×";
}

// A ratio of times said as a sentence does: "1.46× faster", and below 1 the other way round, "17.2×
// slower" (a CPU's sparse Compare had read "speedup 0.0583×").
inline QString relative_speed_text(double ratio) {
  if (!std::isfinite(ratio) || ratio <= 0.0) return QString("–");
  return ratio >= 1.0 ? QObject::tr("%1 faster").arg(speedup_text(ratio))
                      : QObject::tr("%1 slower").arg(speedup_text(1.0 / ratio));
}

}  // namespace svgear
