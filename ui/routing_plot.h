#pragma once
// RoutingPlot: density, estimated error and (in audit mode) measured error of one head, per layer
// of one step or per step of one layer, drawn with QCustomPlot. Density and the measured relative
// L2 error are fractions (left axis); the probe's estimate log Σ ε̂² is unnormalised (right axis).

#include <vector>

#include <QWidget>

#include "ui/routing_step.h"

class QCustomPlot;

namespace svgear {

class RoutingPlot : public QWidget {
  Q_OBJECT

 public:
  enum class Curve { Unset, Density, EstimatedError, MeasuredError };

  explicit RoutingPlot(QWidget* parent);

  // x = layer: every traced layer of `step` for `head` (dense layers have no point).
  void showLayers(const RoutingStep& step, int head);
  // x = step: every traced step in `steps` for (layer, head).
  void showSteps(const std::vector<RoutingStep>& steps, int layer, int head);
  void clear();
  int pointCount(Curve curve) const;

  QSize sizeHint() const override { return {340, 220}; }

 private:
  struct Point {
    double x = 0.0;
    const RoutingTrace* trace = nullptr;
  };
  void plot(const std::vector<Point>& points, const QString& x_label, double x_min, double x_max);

  QCustomPlot* plot_;
};

}  // namespace svgear
