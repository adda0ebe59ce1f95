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

void use_whole_ticks(QCPAxis* axis) {
  QSharedPointer<QCPAxisTickerFixed> whole(new QCPAxisTickerFixed);
  whole->setTickStep(1.0);
  whole->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  axis->setTicker(whole);
}

void place_legend_above(QCustomPlot* plot, int columns) {
  plot->legend->setVisible(true);
  plot->legend->setBrush(QColor(30, 30, 32, 200));
  plot->legend->setTextColor(kPlotText);
  plot->legend->setBorderPen(QPen(kPlotGrid));
  QFont small = plot->font();
  small.setPointSizeF(small.pointSizeF() * 0.8);
  plot->legend->setFont(small);
  plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot->legend->setWrap(columns);
  plot->plotLayout()->insertRow(0);
  plot->plotLayout()->addElement(0, 0, plot->legend);
  plot->plotLayout()->setRowStretchFactor(0, 0.001);
}

}  // namespace svgear
