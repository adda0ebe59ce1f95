#pragma once
// RoutingPanel: the studio's routing views — how the sparse attention decided, step by step, fed
// by the worker's routingReady signal. Selectors for step, layer and head; the block map
// (BlockMapView), the clusters of the tokens of one frame over the video (ClusterMapView), and the
// per-layer / per-step plot of density and error (RoutingPlot). It also says what the next
// generation traces: every layer and head when Trace is on, and the dense audit when Audit is on.
//
// Every step's scalars (density, errors, phase times) stay for the plots. The per-token and
// per-block detail (labels, block maps, estimates) stays while it fits a memory budget; beyond
// it the oldest steps lose theirs, and their block and cluster maps are no longer shown.

#include <cstddef>
#include <memory>
#include <vector>

#include <QWidget>

#include "core/attention/routing_trace.h"
#include "core/media/video.h"
#include "ui/clamping_spin_box.h"
#include "ui/routing_step.h"
#include "ui/studio_request.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QSettings;
class QSlider;

namespace svgear {

class BlockMapView;
class ClusterMapView;
class RoutingPlot;

class RoutingPanel : public QWidget {
  Q_OBJECT

 public:
  explicit RoutingPanel(QWidget* parent);

  // What the next generation should record, and in which layers and heads (empty = all). The
  // selections throw UserError naming what was typed when it is not one, or a layer or head past
  // the model's.
  RoutingRecording recording() const;
  std::vector<int> tracedLayers() const;
  std::vector<int> tracedHeads() const;
  // The loaded model's layers and heads, which the Traced boxes' tooltips name (0: none loaded).
  void fitToModel(int layers, int heads);
  // Trace and Audit apply when a generation starts: they are locked while one runs.
  void setRecordOptionsEnabled(bool enabled);

  // A new generation: forget the previous one's steps.
  void clear();
  // What the panel says while it has no steps, in place of how to get some (a run that traces, in
  // its dense warm-up; one that ended before its first sparse step). Ignored once a step is in.
  void showNoStepsNote(const QString& note);
  // One step's traces, which the panel takes over (it may drop their maps later); with "latest"
  // ticked the views jump to it.
  void addStep(std::shared_ptr<RoutingStep> step);
  // Many steps at once (an opened trace file), the views updated once, at the last.
  void addSteps(std::vector<std::shared_ptr<RoutingStep>> steps);
  // Bytes of labels, block maps and estimates to keep (the newest step always keeps its own).
  void setDetailBudget(size_t bytes) { detail_budget_bytes_ = bytes; }
  size_t detailBudget() const { return detail_budget_bytes_; }
  // The clip the cluster map is drawn over (the latest estimate or the result).
  void setClip(const SharedVideo& clip);
  const SharedVideo& clip() const { return clip_; }
  // The cluster map follows the preview: the latent frame that shows the clip's `video_frame`.
  void showVideoFrame(int video_frame);

  // Every step of this generation that sent traces, in order. Shared with exports in flight, so a
  // step is never changed in place while another holder has it.
  const std::vector<std::shared_ptr<RoutingStep>>& steps() const { return steps_; }
  // The step, layer and head the views show (-1 when there is none).
  int shownStep() const;
  int shownLayer() const;
  int shownHead() const;
  BlockMapView* blockMap() const { return block_map_; }
  ClusterMapView* clusterMap() const { return cluster_map_; }
  RoutingPlot* plot() const { return plot_; }

  void save(QSettings& settings) const;
  void restore(const QSettings& settings);

  // What the views show now (nullptr when nothing); the preview's inspector follows them.
  const RoutingStep* selectedStep() const;
  const RoutingTrace* selectedTrace() const;
  // Why `map` ("Block map", the token inspector) of `trace` is not drawn, when it has none: the
  // head mean has no maps, and an older step's were dropped. Empty when it has one.
  QString whyNoMap(const RoutingTrace& trace, const QString& map) const;

 Q_SIGNALS:
  // The shown step, layer or head changed (or the steps were cleared).
  void selectionChanged();
  // A frame typed that the box cannot hold was set to the nearest it can: "9 is above the largest
  // value, 3: set to 3", for the status line and the Log.
  void noted(const QString& note);
  // The artist chose a latent frame: the first frame of the clip it shows, for the preview.
  void videoFrameChosen(int video_frame);

 private:
  // Appends a step and drops old detail over the budget; whether the shown step lost its detail.
  bool appendStep(std::shared_ptr<RoutingStep> step);
  // Refill the layer and head lists from the selected step, keeping the chosen values if present.
  void syncLayersAndHeads();
  void showSelection();
  void showClusterFrame();
  void clearPlot();  // no points, on the axes of the plot view chosen

  std::vector<std::shared_ptr<RoutingStep>> steps_;
  size_t detail_bytes_ = 0;  // held by steps_
  // The layer and head shown when the last run's traces were cleared: the next run shows them
  // again where it traces them (-1: none chosen yet).
  int kept_layer_ = -1, kept_head_ = -1;
  int model_layers_ = 0, model_heads_ = 0;
  // A step of the built-in models at the default 200 × 1000 clusters is a few MB; a Wan-1.3B 480p
  // step (30 layers × 12 heads) about 0.45 GB, so this keeps about one of those.
  size_t detail_budget_bytes_ = size_t(512) << 20;
  SharedVideo clip_;

  QCheckBox* trace_;
  QCheckBox* audit_;
  QLineEdit* trace_layers_;
  QLineEdit* trace_heads_;
  QComboBox* step_;
  QCheckBox* follow_;
  QComboBox* layer_;
  QComboBox* head_;
  QComboBox* colouring_;
  QCheckBox* sort_by_size_;
  QComboBox* labels_;
  ClampingSpinBox* frame_;
  QSlider* opacity_;
  QComboBox* plot_axis_;
  QLabel* summary_;
  BlockMapView* block_map_;
  ClusterMapView* cluster_map_;
  RoutingPlot* plot_;
};

}  // namespace svgear
