#include "ui/plot_style.h"

#include <algorithm>

#include <QEvent>
#include <QFontMetrics>

#include "ui/qcustomplot_include.h"

namespace svgear {
namespace {

const char kMostColumns[] = "svgear_most_columns";
const char kWholeLabel[] = "svgear_whole_label";
const char kShownLabel[] = "svgear_shown_label";
const char kLeastHeight[] = "svgear_least_height";  // the plot's own, before its legend's rows

// Refits the legend before QCustomPlot lays out the resized plot, so one layout draws it.
class LegendWrap : public QObject {
 public:
  explicit LegendWrap(QCustomPlot* plot) : QObject(plot), plot_(plot) { plot->installEventFilter(this); }
  bool eventFilter(QObject* watched, QEvent* event) override {
    if (watched == plot_ && event->type() == QEvent::Resize) fit_legend_to_width(plot_);
    return false;
  }

 private:
  QCustomPlot* plot_;
};

}  // namespace

void style_plot_axis(QCPAxis* axis) {
  axis->setBasePen(QPen(kPlotText));
  axis->setTickPen(QPen(kPlotText));
  axis->setSubTickPen(QPen(kPlotText));
  axis->setTickLabelColor(kPlotText);
  axis->setLabelColor(kPlotText);
  axis->grid()->setPen(QPen(kPlotGrid, 0, Qt::DotLine));
  // QCustomPlot draws the line at 0 bright and solid: on an axis of layers or frames from 0 it
  // stood out as a line of data.
  axis->grid()->setZeroLinePen(QPen(kPlotGrid, 0, Qt::DotLine));
}

void use_whole_ticks(QCPAxis* axis) {
  QSharedPointer<QCPAxisTickerFixed> whole(new QCPAxisTickerFixed);
  whole->setTickStep(1.0);
  whole->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  axis->setTicker(whole);
}

namespace {

class TickerUpTo : public QCPAxisTicker {
 public:
  explicit TickerUpTo(double most) : most_(most) {}

 protected:
  QVector<double> createTickVector(double step, const QCPRange& range) override {
    QVector<double> ticks = QCPAxisTicker::createTickVector(step, range);
    ticks.erase(std::remove_if(ticks.begin(), ticks.end(), [&](double t) { return t > most_ + step * 1e-6; }),
                ticks.end());
    return ticks;
  }

 private:
  double most_;
};

}  // namespace

void use_ticks_up_to(QCPAxis* axis, double most) { axis->setTicker(QSharedPointer<TickerUpTo>::create(most)); }

void place_legend_above(QCustomPlot* plot, int columns) {
  plot->legend->setVisible(true);
  plot->legend->setBrush(QColor(30, 30, 32, 200));
  plot->legend->setTextColor(kPlotText);
  plot->legend->setBorderPen(QPen(kPlotGrid));
  QFont small = plot->font();
  small.setPointSizeF(small.pointSizeF() * 0.8);
  plot->legend->setFont(small);
  plot->legend->setIconSize(22, 12);  // QCustomPlot's 32 px samples left room for one column in a narrow dock
  plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot->legend->setWrap(columns);
  plot->legend->setProperty(kMostColumns, columns);
  plot->setProperty(kLeastHeight, plot->minimumHeight());
  plot->plotLayout()->insertRow(0);
  plot->plotLayout()->addElement(0, 0, plot->legend);
  plot->plotLayout()->setRowStretchFactor(0, 0.001);
  new LegendWrap(plot);
  // The axes' margins are known once laid out: the least height is worked out again then, after the
  // replot (a minimum raised within it resizes the plot under the replot drawing the old layout).
  QObject::connect(plot, &QCustomPlot::afterLayout, plot, [plot] {
    QMetaObject::invokeMethod(plot, [plot] { fit_legend_to_width(plot); }, Qt::QueuedConnection);
  });
  fit_legend_to_width(plot);
}

void fit_vertical_axes_to_height(QCustomPlot* plot) {
  QObject::connect(plot, &QCustomPlot::afterLayout, plot, [plot] {
    const int room = plot->axisRect()->height();
    for (QCPAxis* axis : {plot->yAxis, plot->yAxis2}) {
      // A label other than the one shown last was set since: it is the whole text now.
      if (axis->label() != axis->property(kShownLabel).toString()) axis->setProperty(kWholeLabel, axis->label());
      const QString whole = axis->property(kWholeLabel).toString();
      const QString shown = QFontMetrics(axis->labelFont()).elidedText(whole, Qt::ElideRight, std::max(0, room));
      axis->setProperty(kShownLabel, shown);
      axis->setLabel(shown);  // its length along the axis moves no other part of the layout
      // QCustomPlot's five ticks at most, one per three lines of tick labels. The ticks of this
      // layout are made already: a changed count shows from the next one, queued here.
      const int ticks = std::clamp(room / (3 * QFontMetrics(axis->tickLabelFont()).height()), 2, 5);
      if (axis->ticker()->tickCount() != ticks) {
        axis->ticker()->setTickCount(ticks);
        plot->replot(QCustomPlot::rpQueuedReplot);
      }
    }
  });
}

QString whole_label(const QCPAxis* axis) {
  const QString shown = axis->property(kShownLabel).toString();
  return axis->label() == shown && !shown.isNull() ? axis->property(kWholeLabel).toString() : axis->label();
}

void fit_legend_to_width(QCustomPlot* plot) {
  QCPLegend* legend = plot->legend;
  int widest = 1;
  for (int i = 0; i < legend->itemCount(); ++i) {  // cells: the last row's may be empty
    if (const QCPAbstractLegendItem* item = legend->item(i)) widest = std::max(widest, item->minimumOuterSizeHint().width());
  }
  // The legend's cell spans the plot's width less the layouts' margins; columns are as wide as
  // their widest entry, so `widest` per column is the most they can need.
  const QMargins outer = plot->plotLayout()->margins() + legend->margins();
  const int room = plot->width() - outer.left() - outer.right();
  const int spacing = legend->columnSpacing();
  const int fit = (room + spacing) / (widest + spacing);
  const int columns = std::clamp(fit, 1, std::max(1, legend->property(kMostColumns).toInt()));
  if (columns != legend->wrap()) {
    legend->setWrap(columns);
    legend->setFillOrder(legend->fillOrder(), true);  // rearranges the entries already there
    plot->replot(QCustomPlot::rpQueuedReplot);
  }
  // Below the legend, the axes' least height: their margins as last laid out (ticks and labels;
  // four lines of text before a first layout) around the axis rect's least inside.
  const QCPAxisRect* axes = plot->axisRect();
  const int margins = axes->margins().top() + axes->margins().bottom();
  const int around = margins > 0 ? margins : 4 * QFontMetrics(plot->xAxis->tickLabelFont()).height();
  const QMargins layout = plot->plotLayout()->margins();
  const int least = layout.top() + layout.bottom() + legend->minimumOuterSizeHint().height() +
                    plot->plotLayout()->rowSpacing() + around + axes->minimumSize().height();
  plot->setMinimumHeight(std::max(plot->property(kLeastHeight).toInt(), least));
}

}  // namespace svgear
