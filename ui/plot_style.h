#pragma once
// The studio's look for QCustomPlot axes on the dark theme, shared by every plot.

#include <QColor>
#include <QString>

class QCPAxis;
class QCustomPlot;

namespace svgear {

inline const QColor kPlotText(220, 220, 220);
inline const QColor kPlotGrid(70, 70, 74);

// Light axis, ticks and labels; dotted dark grid, its line at 0 too.
void style_plot_axis(QCPAxis* axis);

// Ticks at whole multiples only, for axes of whole numbers (layers, steps, frames): no "0.5".
void use_whole_ticks(QCPAxis* axis);

// No tick past `most`, for an axis whose range reaches past a value its quantity never takes (an
// SSIM axis shown to a little past 1, so that points at 1 are drawn whole, had a tick at 1.0005).
void use_ticks_up_to(QCPAxis* axis, double most);

// The plot's legend in rows of up to `columns` entries above the axes, in a smaller font, so it
// never covers a point (inside the axes it sat on the curves wherever it was put). Each resize
// rewraps it to as many columns as the width holds (fit_legend_to_width).
void place_legend_above(QCustomPlot* plot, int columns);

// The vertical axes fitted to their height at every layout (a low dock, a 1.5 scale factor): their
// labels elided, since drawn rotated and centred a longer one lost both its ends, and as many ticks
// as the height holds apart (five ticks in 80 pixels ran their numbers together). Labels set later
// with setLabel are taken as the whole text.
void fit_vertical_axes_to_height(QCustomPlot* plot);
// An axis's label as set, before fit_vertical_axes_to_height elided it.
QString whole_label(const QCPAxis* axis);

// Wraps the legend into the most columns, up to place_legend_above's count, whose widest entry fits
// the plot's width whole: squeezed into one row, a narrow dock cut every name ("de", "est."). The
// plot's least height then holds the legend's rows whole above room for the axes (a low dock had
// squashed them to half their letters). Call it after entries join or leave the legend; resizes
// call it themselves.
void fit_legend_to_width(QCustomPlot* plot);

}  // namespace svgear
