#pragma once
// A speedup as the studio writes it: three significant digits and "×" ("1.46×", "12.3×", "0.0499×"),
// trailing zeros kept, so a column of them reads alike ("0.350×" beside "0.402×", not "0.35×").
// Two decimals had read "0.00×" for a CPU's sparse run next to its dense one; `svgear compare`
// prints three significant digits too (printf's %g, without the trailing zeros).

#include <algorithm>
#include <cmath>

#include <QString>

namespace svgear {

inline QString speedup_text(double ratio) {
  if (!std::isfinite(ratio) || ratio <= 0.0) return QString::number(ratio, 'g', 3) + "×";
  const int decimals = std::max(0, 2 - int(std::floor(std::log10(ratio))));
  QString text = QString::number(ratio, 'f', decimals);
  // Rounding up to the next power of ten ("9.995" → "10.00") gives one digit too many.
  if (decimals > 0 && text.size() > 1 && std::abs(text.toDouble()) >= std::pow(10.0, 3 - decimals)) {
    text = QString::number(ratio, 'f', decimals - 1);
  }
  return text + "×";
}

}  // namespace svgear
