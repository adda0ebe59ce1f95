#pragma once
// The viridis colour map: perceptually ordered and readable on a dark theme. Used wherever the
// studio colours a magnitude (block errors, frame differences).

#include <QColor>

namespace svgear {

// t in [0, 1] (clamped): 0 dark purple, 1 yellow.
QColor viridis(float t);

}  // namespace svgear
