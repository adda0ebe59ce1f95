#include "ui/plot_style.h"
#include "ui/qcustomplot_include.h"

namespace svgear {

void style_plot_axis(QCPAxis* axis) {
  axis->setBasePen(QPen(kPlotText));
  axis->setTickPen(QPen(kPlotText));
  axis->setSubTickPen(QPen(kPlotText));
  axis->setTickLabelColor(kPlotText);
  axis->setLabelColor(kPlotText);
  axis->grid()->setPen(QPen(kPlotGrid, 0, Qt::DotLine));
}

}  // namespace svgear
