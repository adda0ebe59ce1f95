#pragma once
// RoutingPanel: the studio's routing views — how the sparse attention decided, step by step, fed
// by the worker's routingReady signal. Selectors for step, layer and head; the block map
// (BlockMapView), the clusters of the tokens of one frame over the video (ClusterMapView), and the
// per-layer / per-step plot of density and error (RoutingPlot). It also says what the next
// generation traces: every layer and head when Trace is on, and the dense audit when Audit is on.

#include <vector>

#include <QWidget>

#include "core/attention/routing_trace.h"
#include "core/media/video.h"
#include "ui/routing_step.h"
#include "ui/studio_request.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSettings;
class QSlider;
class QSpinBox;

namespace svgear {

class BlockMapView;
class ClusterMapView;
class RoutingPlot;

class RoutingPanel : public QWidget {
  Q_OBJECT

 public:
  explicit RoutingPanel(QWidget* parent);

  // What the next generation should record.
  RoutingRecording recording() const;
  // Trace and Audit apply when a generation starts: they are locked while one runs.
  void setRecordOptionsEnabled(bool enabled);

  // A new generation: forget the previous one's steps.
  void clear();
  // One step's traces; with "latest" ticked the views jump to it.
  void addStep(const RoutingStep& step);
  // The clip the cluster map is drawn over (the latest estimate or the result).
  void setClip(const Video& clip);

  // Every step of this generation that sent traces, in order.
  const std::vector<RoutingStep>& steps() const { return steps_; }
  // The step, layer and head the views show (-1 when there is none).
  int shownStep() const;
  int shownLayer() const;
  int shownHead() const;
  BlockMapView* blockMap() const { return block_map_; }
  ClusterMapView* clusterMap() const { return cluster_map_; }
  RoutingPlot* plot() const { return plot_; }

  void save(QSettings& settings) const;
  void restore(const QSettings& settings);

 private:
  const RoutingStep* selectedStep() const;
  const RoutingTrace* selectedTrace() const;
  // Refill the layer and head lists from the selected step, keeping the chosen values if present.
  void syncLayersAndHeads();
  void showSelection();
  void showUnderlay();

  std::vector<RoutingStep> steps_;
  Video clip_;

  QCheckBox* trace_;
  QCheckBox* audit_;
  QComboBox* step_;
  QCheckBox* follow_;
  QComboBox* layer_;
  QComboBox* head_;
  QComboBox* colouring_;
  QCheckBox* sort_by_size_;
  QComboBox* labels_;
  QSpinBox* frame_;
  QSlider* opacity_;
  QComboBox* plot_axis_;
  QLabel* summary_;
  BlockMapView* block_map_;
  ClusterMapView* cluster_map_;
  RoutingPlot* plot_;
};

}  // namespace svgear
