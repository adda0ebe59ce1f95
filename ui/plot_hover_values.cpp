#include "ui/plot_hover_values.h"

#include <cmath>
#include <limits>

#include <QHelpEvent>
#include <QStringList>
#include <QToolTip>

#include "ui/plot_style.h"
#include "ui/qcustomplot_include.h"

namespace svgear {
namespace {

// How near the pointer a point must be, in pixels, to be named.
constexpr double kReachPixels = 8.0;

// Three significant digits, as the panels' other figures.
QString value_text(double value) { return QString::number(value, 'g', 3); }

// The tooltip of a plot: the values of the points near the pointer, else the plot's own tooltip. As
// Qt's own tooltip event, so the two take turns instead of replacing each other as the mouse moves.
class PlotValueTips : public QObject {
 public:
  explicit PlotValueTips(QCustomPlot* plot) : QObject(plot), plot_(plot) {}

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override {
    if (watched != plot_ || event->type() != QEvent::ToolTip) return false;
    const auto* help = static_cast<QHelpEvent*>(event);
    const QString values = valuesNear(help->pos());
    const QString text = values.isEmpty() ? plot_->toolTip() : values;
    if (text.isEmpty()) {
      QToolTip::hideText();
    } else {
      QToolTip::showText(help->globalPos(), text, plot_);
    }
    return true;
  }

 private:
  // "density: 0.231 at layer 4", a line per visible graph with a point within reach.
  QString valuesNear(QPointF pointer) const {
    QStringList lines;
    for (int g = 0; g < plot_->graphCount(); ++g) {
      QCPGraph* graph = plot_->graph(g);
      if (!graph->visible()) continue;
      double best = std::numeric_limits<double>::infinity();
      QCPGraphDataContainer::const_iterator nearest = graph->data()->constEnd();
      for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it) {
        const QPointF at = graph->coordsToPixels(it->key, it->value);
        const double distance = std::hypot(at.x() - pointer.x(), at.y() - pointer.y());
        if (distance < best) {
          best = distance;
          nearest = it;
        }
      }
      if (best > kReachPixels) continue;
      lines << QObject::tr("%1: %2 at %3 %4")
                   .arg(graph->name(), value_text(nearest->value), whole_label(plot_->xAxis).section(' ', 0, 0),
                        value_text(nearest->key));
    }
    return lines.join('\n');
  }

  QCustomPlot* plot_;
};

}  // namespace

void show_values_on_hover(QCustomPlot* plot) { plot->installEventFilter(new PlotValueTips(plot)); }

}  // namespace svgear
