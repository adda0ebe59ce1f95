#pragma once
// A speedup as the studio writes it: three significant digits and "×" ("1.46×", "12.3×", "0.0499×").
// Two decimals had read "0.00×" for a CPU's sparse run next to its dense one; `svgear compare`
// prints the same digits.

#include <QString>

namespace svgear {

inline QString speedup_text(double ratio) { return QString::number(ratio, 'g', 3) + "×"; }

}  // namespace svgear
