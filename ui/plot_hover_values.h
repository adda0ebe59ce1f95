#pragma once
// Hovering a plot's point shows its value: on a shared axis a curve close to another's scale's end
// (an SSIM of 0.997 on 0–1.05) reads as a flat line, so the number is what tells one point from
// another.

class QCustomPlot;

namespace svgear {

// A tooltip naming each visible graph's point within a few pixels of the resting mouse, the key by
// the first word of the x-axis label: "density: 0.231 at layer 4", "SSIM: 0.997 at frame 3"; away
// from every point, the plot's own tooltip.
void show_values_on_hover(QCustomPlot* plot);

}  // namespace svgear
