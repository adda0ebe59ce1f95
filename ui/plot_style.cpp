#include "ui/plot_style.h"

// qcustomplot.h spells Qt's `signals` and `foreach` keywords, which QT_NO_KEYWORDS turns off; this
// file includes no LibTorch header (see routing_plot.cpp).
#define signals Q_SIGNALS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef foreach
#undef signals

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
