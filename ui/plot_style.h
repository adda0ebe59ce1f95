#pragma once
// The studio's look for QCustomPlot axes on the dark theme, shared by every plot.

#include <QColor>

class QCPAxis;

namespace svgear {

inline const QColor kPlotText(220, 220, 220);
inline const QColor kPlotGrid(70, 70, 74);

// Light axis, ticks and labels; dotted dark grid.
void style_plot_axis(QCPAxis* axis);

}  // namespace svgear
