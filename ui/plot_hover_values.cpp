#include "ui/plot_hover_values.h"

#include <cmath>
#include <limits>

#include <QMouseEvent>
#include <QStringList>
#include <QToolTip>

#include "ui/plot_style.h"
#include "ui/qcustomplot_include.h"

namespace svgear {
namespace {

// How near the mouse a point must be, in pixels, to be named.
constexpr double kReachPixels = 8.0;

// Three significant digits, as the panels' other figures.
QString value_text(double value) { return QString::number(value, 'g', 3); }

}  // namespace

void show_values_on_hover(QCustomPlot* plot) {
  plot->setMouseTracking(true);
  QObject::connect(plot, &QCustomPlot::mouseMove, plot, [plot](QMouseEvent* event) {
    const QPointF mouse = event->position();
    QStringList lines;
    for (int g = 0; g < plot->graphCount(); ++g) {
      QCPGraph* graph = plot->graph(g);
      if (!graph->visible() || graph->dataCount() == 0) continue;
      double best = std::numeric_limits<double>::infinity();
      QCPGraphDataContainer::const_iterator nearest = graph->data()->constEnd();
      for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it) {
        const QPointF at = graph->coordsToPixels(it->key, it->value);
        const double distance = std::hypot(at.x() - mouse.x(), at.y() - mouse.y());
        if (distance < best) {
          best = distance;
          nearest = it;
        }
      }
      if (best > kReachPixels) continue;
      lines << QObject::tr("%1: %2 at %3 %4")
                   .arg(graph->name(), value_text(nearest->value), whole_label(plot->xAxis).section(' ', 0, 0),
                        value_text(nearest->key));
    }
    if (lines.isEmpty()) {
      QToolTip::hideText();
    } else {
      QToolTip::showText(event->globalPosition().toPoint(), lines.join('\n'), plot);
    }
  });
}

}  // namespace svgear
