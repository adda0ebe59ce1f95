#include "ui/viridis.h"

#include <algorithm>
#include <array>

namespace svgear {

// Five stops of viridis, linearly interpolated.
QColor viridis(float t) {
  static const std::array<QColor, 5> kStops = {QColor(68, 1, 84), QColor(59, 82, 139), QColor(33, 145, 140),
                                               QColor(94, 201, 98), QColor(253, 231, 37)};
  const float x = std::clamp(t, 0.0f, 1.0f) * (kStops.size() - 1);
  const int i = std::min(int(x), int(kStops.size()) - 2);
  const float f = x - i;
  const QColor& a = kStops[i];
  const QColor& b = kStops[i + 1];
  return QColor(int(a.red() + f * (b.red() - a.red())), int(a.green() + f * (b.green() - a.green())),
                int(a.blue() + f * (b.blue() - a.blue())));
}

}  // namespace svgear
