#include "ui/routing_plot.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <QVBoxLayout>

#include "ui/plot_hover_values.h"
#include "ui/plot_style.h"
#include "ui/qcustomplot_include.h"

namespace svgear {
namespace {

const QColor kDensity(240, 160, 48);
const QColor kEstimated(90, 150, 230);
const QColor kMeasured(230, 80, 80);
const QColor kKMeans(170, 120, 220);
const QColor kPermute(150, 150, 150);
const QColor kProbe(90, 190, 170);
const QColor kRouting(220, 200, 90);
const QColor kAttention(230, 110, 160);

QCPGraph* add_curve(QCustomPlot* plot, QCPAxis* y, const QColor& colour, QCPScatterStyle::ScatterShape shape,
                    const QString& name) {
  QCPGraph* graph = plot->addGraph(plot->xAxis, y);
  graph->setPen(QPen(colour, 2));
  graph->setScatterStyle(QCPScatterStyle(shape, colour, colour, 7));
  graph->setName(name);
  return graph;
}

}  // namespace

RoutingPlot::RoutingPlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
  plot_->setObjectName("routing_qcustomplot");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
  plot_->setMinimumSize(200, 140);  // on the plot: fit_legend_to_width raises its height for the legend

  plot_->setBackground(palette().window());
  plot_->axisRect()->setBackground(QColor(30, 30, 32));
  for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis, plot_->yAxis2}) style_plot_axis(axis);
  plot_->yAxis2->setVisible(true);
  plot_->yAxis2->grid()->setVisible(false);
  plot_->yAxis2->setLabel(tr("est. log Σ ε̂²"));  // longer, it ran past a short plot's ends
  use_whole_ticks(plot_->xAxis);  // layers, heads and steps

  graphs_ = {add_curve(plot_, plot_->yAxis, kDensity, QCPScatterStyle::ssCircle, tr("density")),
             add_curve(plot_, plot_->yAxis2, kEstimated, QCPScatterStyle::ssSquare, tr("est. error")),
             add_curve(plot_, plot_->yAxis, kMeasured, QCPScatterStyle::ssDiamond, tr("meas. error")),
             add_curve(plot_, plot_->yAxis, kKMeans, QCPScatterStyle::ssCircle, tr("k-means")),
             add_curve(plot_, plot_->yAxis, kPermute, QCPScatterStyle::ssCross, tr("permute")),
             add_curve(plot_, plot_->yAxis, kProbe, QCPScatterStyle::ssSquare, tr("probe")),
             add_curve(plot_, plot_->yAxis, kRouting, QCPScatterStyle::ssTriangle, tr("routing")),
             add_curve(plot_, plot_->yAxis, kAttention, QCPScatterStyle::ssDiamond, tr("attention"))};
  place_legend_above(plot_, 5);
  fit_vertical_axes_to_height(plot_);
  connect(plot_, &QCustomPlot::afterLayout, this, &RoutingPlot::fitMarkers);
  show_values_on_hover(plot_);
  clear(false, tr("layer"));
}

namespace {

// Per value of `axis` (a trace's layer or head), the step's first trace with `fixed` at `value`
// (head kAllHeads: the layer summaries), in order: one pass over the traces, whatever
// num_layers or num_heads claim.
template <typename Point>
std::vector<Point> points_along(const RoutingStep& step, int RoutingTrace::*axis, int RoutingTrace::*fixed, int value) {
  std::vector<Point> points;
  const bool summaries = fixed == &RoutingTrace::head && value == kAllHeads;
  for (const RoutingTrace& t : summaries ? step.head_means : step.traces) {
    if (t.*fixed == value) points.push_back({double(t.*axis), &t});
  }
  std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
  points.erase(std::unique(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.x == b.x; }),
               points.end());
  return points;
}

}  // namespace

void RoutingPlot::showLayers(const RoutingStep& step, int head) {
  plot(points_along<Point>(step, &RoutingTrace::layer, &RoutingTrace::head, head), Quantity::Accuracy,
       tr("layer (step %1)").arg(step.step + 1), 0, std::max(1, step.num_layers - 1));
}

void RoutingPlot::showHeads(const RoutingStep& step, int layer) {
  plot(points_along<Point>(step, &RoutingTrace::head, &RoutingTrace::layer, layer), Quantity::Accuracy,
       tr("head (step %1, layer %2)").arg(step.step + 1).arg(layer), 0, std::max(1, step.num_heads - 1));
}

void RoutingPlot::showSteps(const std::vector<std::shared_ptr<RoutingStep>>& steps, int layer, int head) {
  plotOverSteps(steps, layer, head, Quantity::Accuracy, tr("step (layer %1)").arg(layer));
}

void RoutingPlot::showPhaseTimes(const std::vector<std::shared_ptr<RoutingStep>>& steps, int layer, int head) {
  plotOverSteps(steps, layer, head, Quantity::Time, tr("step (layer %1, all heads)").arg(layer));
}

void RoutingPlot::plotOverSteps(const std::vector<std::shared_ptr<RoutingStep>>& steps, int layer, int head,
                                Quantity quantity, const QString& x_label) {
  std::vector<Point> points;
  int num_steps = 1;
  for (const auto& s : steps) {
    num_steps = std::max(num_steps, s->num_steps);
    if (const RoutingTrace* t = s->find(layer, head)) points.push_back({double(s->step + 1), t});
  }
  plot(points, quantity, x_label, 1, num_steps);
}

void RoutingPlot::clear(bool phase_times, const QString& x_label) {
  if (phase_times) {
    plot({}, Quantity::Time, x_label, 1, 1);
  } else {
    plot({}, Quantity::Accuracy, x_label, 0, 1);
  }
}

void RoutingPlot::plot(const std::vector<Point>& points, Quantity quantity, const QString& x_label,
                       double x_min, double x_max) {
  // (curve, its value of a trace; NaN = no point)
  const std::vector<std::pair<Curve, double (*)(const RoutingTrace&)>> values = {
      {Curve::Density, [](const RoutingTrace& t) { return t.density; }},
      {Curve::EstimatedError, [](const RoutingTrace& t) { return t.estimated_log_error; }},
      {Curve::MeasuredError, [](const RoutingTrace& t) { return t.measured_relative_l2; }},
      {Curve::KMeansTime, [](const RoutingTrace& t) { return t.kmeans_ms; }},
      {Curve::PermuteTime, [](const RoutingTrace& t) { return t.permute_ms; }},
      {Curve::ProbeTime, [](const RoutingTrace& t) { return t.probe_ms; }},
      {Curve::RoutingTime, [](const RoutingTrace& t) { return t.routing_ms; }},
      {Curve::AttentionTime, [](const RoutingTrace& t) { return t.attention_ms; }}};
  const bool time = quantity == Quantity::Time;
  // An audit's measured error (a relative L2 near 10⁻³) lay on the 0 line of a linear axis under the
  // densities: with one shown, the axis is logarithmic, from half the smallest value, and a value of
  // 0 (every block exact) has no point on it.
  const bool logarithmic = !time && std::any_of(points.begin(), points.end(), [](const Point& p) {
    return std::isfinite(p.trace->measured_relative_l2);
  });
  double top = time ? 0.0 : 1.0;
  double smallest = INFINITY;  // of the left axis's values
  for (const auto& [curve, value] : values) {
    const bool shown = time == (curve >= Curve::KMeansTime);
    QVector<double> x, y;
    for (const Point& p : points) {
      const double v = value(*p.trace);
      if (!shown || !std::isfinite(v) || (logarithmic && curve != Curve::EstimatedError && v <= 0.0)) continue;
      x << p.x;
      y << v;
      if (curve != Curve::EstimatedError) top = std::max(top, v);
      if (curve != Curve::EstimatedError) smallest = std::min(smallest, v);
    }
    QCPGraph* g = graph(curve);
    g->setData(x, y, true);
    g->setVisible(shown);
    if (shown) {
      g->addToLegend();
    } else {
      g->removeFromLegend();
    }
  }
  fit_legend_to_width(plot_);  // accuracy and time have their own entries, of other widths
  plot_->xAxis->setLabel(x_label);
  // A margin of a hundredth of the span at least: at thousands of layers or steps, half a unit is
  // no pixel, and the last point sat under the right axis.
  const double margin = std::max(0.5, (x_max - x_min) / 100.0);
  plot_->xAxis->setRange(x_min - margin, x_max + margin);
  fitMarkers();
  // Fractions and times start at 0, so a density reads as a share; the estimate follows its data.
  // The legend says which curve is which: a longer label is cut off in a short dock.
  QCPAxis* left = plot_->yAxis;
  if (logarithmic != (left->scaleType() == QCPAxis::stLogarithmic)) {
    left->setScaleType(logarithmic ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    left->setTicker(logarithmic ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                                : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }
  left->setLabel(time ? tr("ms per call") : logarithmic ? tr("density · rel. L2 (log)") : tr("density · rel. L2"));
  if (logarithmic) {
    left->setRange(std::isfinite(smallest) ? smallest / 2.0 : 1e-4, top * 1.5);
  } else {
    left->setRange(0.0, top > 0.0 ? top * 1.05 : 1.0);
  }
  plot_->yAxis2->setVisible(!time);
  bool found = false;
  const QCPRange range = graph(Curve::EstimatedError)->getValueRange(found);
  if (found) {
    const double pad = std::max(0.5, range.size() * 0.1);
    plot_->yAxis2->setRange(range.lower - pad, range.upper + pad);
  } else {
    plot_->yAxis2->setRange(0.0, 5.0);  // as at the start: not the last run's estimates' range
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

// Markers no wider than the gap between points: at 7 px, a layer's 150 steps in a narrow dock had
// merged into a solid band that hid the curves beneath. Fitted again at every layout, so a dock
// resized after the plot keeps them right.
void RoutingPlot::fitMarkers() {
  const double pixels_per_point = plot_->axisRect()->width() / std::max(1.0, plot_->xAxis->range().size());
  const double marker = std::clamp(pixels_per_point * 0.6, 2.0, 7.0);
  for (QCPGraph* g : graphs_) {
    QCPScatterStyle style = g->scatterStyle();
    style.setSize(marker);
    g->setScatterStyle(style);
  }
}

int RoutingPlot::pointCount(Curve curve) const {
  if (curve == Curve::Unset || !graph(curve)->visible()) return 0;
  return graph(curve)->dataCount();
}

}  // namespace svgear
