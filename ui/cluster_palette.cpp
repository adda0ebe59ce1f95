#include "ui/cluster_palette.h"

#include <cmath>

namespace svgear {

QColor cluster_colour(int id) {
  constexpr double kGoldenAngle = 0.381966;  // of a turn: 1 − 1/φ
  const double hue = std::fmod(0.07 + id * kGoldenAngle, 1.0);
  // Three lightness levels break up hues that come close again after many ids.
  const double lightness = 0.42 + 0.12 * (id % 3);
  return QColor::fromHslF(float(hue), 0.75f, float(lightness));
}

}  // namespace svgear
