#pragma once
// RoutingPlot: density, estimated error and (in audit mode) measured error per layer, per head or
// per step, or the time of each phase per step, drawn with
// QCustomPlot. Density and the measured relative L2 error are fractions (left axis); the probe's
// estimate log Σ ε̂² is unnormalised (right axis).

#include <array>
#include <vector>

#include <QWidget>

#include "ui/routing_step.h"

class QCPGraph;
class QCustomPlot;

namespace svgear {

class RoutingPlot : public QWidget {
  Q_OBJECT

 public:
  enum class Curve {
    Unset,
    Density,
    EstimatedError,
    MeasuredError,
    KMeansTime,
    PermuteTime,
    ProbeTime,
    RoutingTime,
    AttentionTime
  };

  explicit RoutingPlot(QWidget* parent);

  // x = layer: every traced layer of `step` for `head` (dense layers have no point).
  void showLayers(const RoutingStep& step, int head);
  // x = head: every traced head of `layer` in `step`.
  void showHeads(const RoutingStep& step, int layer);
  // x = step: every traced step in `steps` for (layer, head).
  void showSteps(const std::vector<std::shared_ptr<RoutingStep>>& steps, int layer, int head);
  // x = step: the time of each phase of `layer`'s call (all heads together) in every traced step.
  void showPhaseTimes(const std::vector<std::shared_ptr<RoutingStep>>& steps, int layer, int head);
  // No points, on the axes and legend of the view chosen: `phase_times` those of showPhaseTimes
  // (the accuracy axes had stayed over an empty phase-time plot), `x_label` its x axis's.
  void clear(bool phase_times, const QString& x_label);
  // Points of `curve` as drawn now (0 for a hidden curve).
  int pointCount(Curve curve) const;

  QSize sizeHint() const override { return {340, 220}; }

 private:
  enum class Quantity { Unset, Accuracy, Time };
  struct Point {
    double x = 0.0;
    const RoutingTrace* trace = nullptr;
  };
  void plot(const std::vector<Point>& points, Quantity quantity, const QString& x_label, double x_min,
            double x_max);
  // x = step: (layer, head)'s trace in every step of `steps` that has it.
  void plotOverSteps(const std::vector<std::shared_ptr<RoutingStep>>& steps, int layer, int head, Quantity quantity,
                     const QString& x_label);
  QCPGraph* graph(Curve curve) const { return graphs_[int(curve) - 1]; }
  void fitMarkers();  // to the pixels between points, at every layout

  QCustomPlot* plot_;
  std::array<QCPGraph*, 8> graphs_ = {};  // by Curve, Density first
};

}  // namespace svgear
