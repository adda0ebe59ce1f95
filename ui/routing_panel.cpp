#include "ui/routing_panel.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpressionValidator>
#include <QSignalBlocker>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include "ui/block_map_view.h"
#include "ui/cluster_map_view.h"
#include "ui/routing_plot.h"
#include "ui/token_inspector.h"
#include "ui/video_frame_image.h"

namespace svgear {
namespace {

// The head means' name: "all heads" only when every head is traced.
QString traced_heads_name(const RoutingStep& step) {
  std::vector<int> heads;
  for (const RoutingTrace& t : step.traces) {
    if (t.head != kAllHeads && std::find(heads.begin(), heads.end(), t.head) == heads.end()) heads.push_back(t.head);
  }
  if (int(heads.size()) >= step.num_heads) return QObject::tr("all heads");
  return QObject::tr("traced heads (%1 of %2)").arg(heads.size()).arg(step.num_heads);
}

constexpr int kPlotPerLayer = 0;
constexpr int kPlotPerHead = 1;
constexpr int kPlotPerStep = 2;
constexpr int kPlotPhaseTimes = 3;
constexpr int kQueryClusters = 0;

void drop_detail(std::shared_ptr<RoutingStep>& step) {
  // An export still reading the step keeps it whole. Exports are refused during runs, when steps
  // lose their maps, so this copy is a safety net rather than a path taken.
  if (step.use_count() > 1) step = std::make_shared<RoutingStep>(*step);
  step->drop_detail();
}

bool has_detail(const RoutingTrace& trace) { return !trace.block_map.empty(); }

QString milliseconds(double ms) { return QString::number(ms, 'f', ms < 10 ? 2 : 1) + " ms"; }

// Selects the item whose data is `value`, or the first item when none has it.
void select_data(QComboBox* box, int value) {
  const int index = box->findData(value);
  box->setCurrentIndex(index >= 0 ? index : 0);
}

}  // namespace

RoutingPanel::RoutingPanel(QWidget* parent)
    : QWidget(parent),
      trace_(new QCheckBox(tr("Trace"), this)),
      audit_(new QCheckBox(tr("Audit"), this)),
      trace_layers_(new QLineEdit(this)),
      trace_heads_(new QLineEdit(this)),
      step_(new QComboBox(this)),
      follow_(new QCheckBox(tr("latest"), this)),
      layer_(new QComboBox(this)),
      head_(new QComboBox(this)),
      colouring_(new QComboBox(this)),
      sort_by_size_(new QCheckBox(tr("by size"), this)),
      labels_(new QComboBox(this)),
      frame_(new ClampingSpinBox(this)),
      opacity_(new QSlider(Qt::Horizontal, this)),
      plot_axis_(new QComboBox(this)),
      summary_(new QLabel(this)),
      block_map_(new BlockMapView(this)),
      cluster_map_(new ClusterMapView(this)),
      plot_(new RoutingPlot(this)) {
  trace_->setObjectName("routing_trace");
  trace_->setChecked(true);
  trace_->setToolTip(
      tr("Record what SVG2 / SVG-EAR decide in every sparse layer and head of the next "
         "generation (the conditional branch). Costs a device synchronisation per phase."));
  audit_->setObjectName("routing_audit");
  audit_->setToolTip(
      tr("Also run dense attention in every traced layer and measure the true relative L2 "
         "error of the sparse output (one extra dense attention per traced call)."));
  // Wan-1.3B at 480p traces 0.45 GB a step with every layer and head; a few are enough to look at.
  const auto* selection_syntax =
      new QRegularExpressionValidator(QRegularExpression(R"(\s*(all|[\d\s,-]*)\s*)"), this);
  for (QLineEdit* edit : {trace_layers_, trace_heads_}) {
    edit->setValidator(selection_syntax);
    edit->setMaximumWidth(90);
  }
  trace_layers_->setObjectName("routing_trace_layers");
  trace_layers_->setPlaceholderText(tr("layers: all"));
  trace_heads_->setObjectName("routing_trace_heads");
  trace_heads_->setPlaceholderText(tr("heads: all"));
  fitToModel(0, 0);  // the tooltips, until a model loads
  step_->setObjectName("routing_step");
  follow_->setObjectName("routing_follow");
  follow_->setChecked(true);
  follow_->setToolTip(tr("Show each new step as it arrives"));
  layer_->setObjectName("routing_layer");
  head_->setObjectName("routing_head");
  colouring_->setObjectName("routing_colouring");
  colouring_->addItem(tr("Routing"), int(BlockMapView::Colouring::Routing));
  colouring_->addItem(tr("Estimated error"), int(BlockMapView::Colouring::EstimatedError));
  colouring_->setToolTip(
      tr("Colour the blocks by the routing decision, or by the error probe's estimate "
         "log ε̂² of replacing the block by its key centroid (dots: blocks kept exact)"));
  sort_by_size_->setObjectName("routing_sort_by_size");
  sort_by_size_->setToolTip(tr("Order the block map's rows and columns by cluster size, largest first"));
  labels_->setObjectName("routing_labels");
  labels_->addItem(tr("Query clusters"));
  labels_->addItem(tr("Key clusters"));
  labels_->setToolTip(tr("Colour each token of the frame by its query or key cluster"));
  frame_->setObjectName("routing_frame");
  frame_->setOnClamped([this](const QString& note) { Q_EMIT noted(note); });
  opacity_->setObjectName("routing_opacity");
  opacity_->setRange(0, 100);
  opacity_->setValue(85);
  opacity_->setToolTip(tr("Opacity of the clusters over the video frame"));
  plot_axis_->setObjectName("routing_plot_axis");
  plot_axis_->insertItem(kPlotPerLayer, tr("Per layer of the step"));
  plot_axis_->insertItem(kPlotPerHead, tr("Per head of the layer"));
  plot_axis_->insertItem(kPlotPerStep, tr("Per step of the layer"));
  plot_axis_->insertItem(kPlotPhaseTimes, tr("Phase times per step"));
  summary_->setObjectName("routing_summary");
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  block_map_->setObjectName("block_map");
  cluster_map_->setObjectName("cluster_map");
  plot_->setObjectName("routing_plot");
  // Lists shrink with the dock instead of widening the window to their longest entry; the two
  // short fixed lists of the maps' colouring keep their words whole ("Query clus" read as nothing).
  for (QComboBox* box : {step_, layer_, head_, plot_axis_}) {
    box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    box->setMinimumContentsLength(5);
  }
  for (QComboBox* box : {colouring_, labels_}) box->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  opacity_->setMinimumWidth(40);
  opacity_->setMaximumWidth(90);

  // Left: what to record and which (step, layer, head) to show. Right: the summary line, then each
  // view under its own options.
  auto* selection = new QGridLayout;
  selection->setVerticalSpacing(3);
  const auto add_row = [this, selection](int row, const QString& label, QWidget* a, QWidget* b) {
    selection->addWidget(new QLabel(label, this), row, 0, Qt::AlignRight);
    auto* cell = new QHBoxLayout;
    cell->addWidget(a, 1);
    if (b) cell->addWidget(b);
    selection->addLayout(cell, row, 1);
  };
  add_row(0, tr("Record"), trace_, audit_);
  add_row(1, tr("Traced"), trace_layers_, trace_heads_);
  add_row(2, tr("Step"), step_, follow_);
  add_row(3, tr("Layer"), layer_, nullptr);
  add_row(4, tr("Head"), head_, nullptr);
  selection->setRowStretch(5, 1);

  auto* block_options = new QHBoxLayout;
  block_options->addWidget(colouring_, 1);
  block_options->addWidget(sort_by_size_);
  auto* cluster_options = new QHBoxLayout;
  cluster_options->addWidget(labels_, 1);
  cluster_options->addWidget(new QLabel(tr("frame"), this));
  cluster_options->addWidget(frame_);
  cluster_options->addWidget(opacity_);
  auto* plot_options = new QHBoxLayout;
  plot_options->addWidget(plot_axis_, 1);

  auto* views = new QGridLayout;
  views->setVerticalSpacing(3);
  views->addWidget(summary_, 0, 0, 1, 3);
  views->addLayout(block_options, 1, 0);
  views->addLayout(cluster_options, 1, 1);
  views->addLayout(plot_options, 1, 2);
  views->addWidget(block_map_, 2, 0);
  views->addWidget(cluster_map_, 2, 1);
  views->addWidget(plot_, 2, 2);
  views->setColumnStretch(0, 3);
  views->setColumnStretch(1, 3);
  views->setColumnStretch(2, 4);
  views->setRowStretch(2, 1);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(6, 4, 6, 4);
  layout->addLayout(selection);
  layout->addLayout(views, 1);

  const auto reshow = [this] { showSelection(); };
  connect(trace_, &QCheckBox::toggled, this, [this](bool on) {
    audit_->setEnabled(trace_->isEnabled() && on);
    trace_layers_->setEnabled(trace_->isEnabled() && on);
    trace_heads_->setEnabled(trace_->isEnabled() && on);
  });
  connect(step_, &QComboBox::activated, this, [this] {
    follow_->setChecked(step_->currentIndex() == step_->count() - 1);
    syncLayersAndHeads();
    showSelection();
  });
  connect(follow_, &QCheckBox::toggled, this, [this](bool on) {
    if (!on || steps_.empty()) return;
    step_->setCurrentIndex(step_->count() - 1);
    syncLayersAndHeads();
    showSelection();
  });
  connect(layer_, &QComboBox::activated, this, reshow);
  connect(head_, &QComboBox::activated, this, reshow);
  connect(labels_, &QComboBox::activated, this, reshow);
  connect(plot_axis_, &QComboBox::activated, this, reshow);
  connect(frame_, &QSpinBox::valueChanged, this, [this] {
    showClusterFrame();
    if (const RoutingStep* step = selectedStep(); step && clip_ && !clip_->empty()) {
      Q_EMIT videoFrameChosen(video_frame_of(step->token_grid(), clip_->frames, frame_->value()));
    }
  });
  connect(colouring_, &QComboBox::activated, this,
          [this] { block_map_->setColouring(BlockMapView::Colouring(colouring_->currentData().toInt())); });
  connect(sort_by_size_, &QCheckBox::toggled, this, [this](bool on) {
    block_map_->setClusterOrder(on ? BlockMapView::ClusterOrder::BySize : BlockMapView::ClusterOrder::ById);
  });
  connect(opacity_, &QSlider::valueChanged, this,
          [this](int value) { cluster_map_->setOpacity(value / 100.0); });
  clear();
}

RoutingRecording RoutingPanel::recording() const {
  if (!trace_->isChecked()) return RoutingRecording::Off;
  return audit_->isChecked() ? RoutingRecording::TraceAndAudit : RoutingRecording::Trace;
}

namespace {

// The selection in `box`, each number below `count` (a model's layers or heads) when that is known.
std::vector<int> selection_within(const QLineEdit* box, int count, const char* what) {
  std::vector<int> chosen = parse_trace_selection(box->text().toStdString());
  if (count > 0) require_trace_selection_within(chosen, count, what);
  return chosen;
}

}  // namespace

std::vector<int> RoutingPanel::tracedLayers() const { return selection_within(trace_layers_, model_layers_, "layer"); }

std::vector<int> RoutingPanel::tracedHeads() const { return selection_within(trace_heads_, model_heads_, "head"); }

void RoutingPanel::fitToModel(int layers, int heads) {
  model_layers_ = layers;
  model_heads_ = heads;
  const auto range = [](int count, const QString& what) {
    return count > 0 ? tr("; this model has %1 0 to %2").arg(what).arg(count - 1) : QString();
  };
  trace_layers_->setToolTip(tr("Layers to trace (and audit): all, or numbers and ranges such as 0,3-5") +
                            range(layers, tr("layers")));
  trace_heads_->setToolTip(tr("Heads to trace: all, or numbers and ranges such as 0-3") + range(heads, tr("heads")));
}

void RoutingPanel::setRecordOptionsEnabled(bool enabled) {
  trace_->setEnabled(enabled);
  for (QWidget* option : std::initializer_list<QWidget*>{audit_, trace_layers_, trace_heads_}) {
    option->setEnabled(enabled && trace_->isChecked());
  }
}

void RoutingPanel::clear() {
  steps_.clear();
  detail_bytes_ = 0;
  // A new run follows its newest step again, whichever older step the last one was left on.
  {
    const QSignalBlocker blocker(follow_);
    follow_->setChecked(true);
  }
  if (layer_->count()) kept_layer_ = shownLayer();  // "all heads" had gone back to head 0
  if (head_->count()) kept_head_ = shownHead();
  step_->clear();
  layer_->clear();
  head_->clear();
  frame_->setRange(0, 0);
  block_map_->setTrace(nullptr);
  cluster_map_->setLabels({}, 0, 0, 0, 0);
  showClusterFrame();
  clearPlot();
  Q_EMIT selectionChanged();
  summary_->setText(
      tr("No routing yet: generate with SVG2 or SVG-EAR attention and Trace ticked. Dense "
         "warm-up steps and dense layers have no routing."));
}

void RoutingPanel::showNoStepsNote(const QString& note) {
  if (steps_.empty()) summary_->setText(note);
}

bool RoutingPanel::appendStep(std::shared_ptr<RoutingStep> step) {
  steps_.push_back(std::move(step));
  detail_bytes_ += steps_.back()->detail_bytes();
  bool dropped_shown = false;
  for (size_t i = 0; i + 1 < steps_.size() && detail_bytes_ > detail_budget_bytes_; ++i) {
    detail_bytes_ -= steps_[i]->detail_bytes();
    drop_detail(steps_[i]);
    dropped_shown = dropped_shown || int(i) == step_->currentIndex();
  }
  const RoutingStep& added = *steps_.back();
  step_->addItem(tr("%1 / %2").arg(added.step + 1).arg(added.num_steps), added.step);
  frame_->setRange(0, std::max(0, added.grid_frames - 1));
  return dropped_shown;
}

void RoutingPanel::addStep(std::shared_ptr<RoutingStep> step) {
  const bool dropped_shown = appendStep(std::move(step));
  if (follow_->isChecked() || steps_.size() == 1) {
    step_->setCurrentIndex(step_->count() - 1);
    syncLayersAndHeads();
    showSelection();
  } else if (dropped_shown || plot_axis_->currentIndex() != kPlotPerLayer) {
    showSelection();  // the shown step lost its maps, or the per-step plots grew
  }
}

void RoutingPanel::addSteps(std::vector<std::shared_ptr<RoutingStep>> steps) {
  if (steps.empty()) return;
  const bool was_empty = steps_.empty();
  for (auto& step : steps) appendStep(std::move(step));
  if (follow_->isChecked() || was_empty) step_->setCurrentIndex(step_->count() - 1);
  syncLayersAndHeads();
  showSelection();
}

void RoutingPanel::setClip(const SharedVideo& clip) {
  clip_ = clip;
  showClusterFrame();
}

void RoutingPanel::showVideoFrame(int video_frame) {
  const RoutingStep* step = selectedStep();
  if (!step || !clip_ || clip_->empty()) return;
  const int frame = grid_frame_of(step->token_grid(), clip_->frames, video_frame);
  if (frame == frame_->value()) return;  // playback: several video frames show one latent frame
  const QSignalBlocker blocker(frame_);  // the preview is there already
  frame_->setValue(frame);
  showClusterFrame();
}

int RoutingPanel::shownStep() const { return selectedStep() ? selectedStep()->step : -1; }
int RoutingPanel::shownLayer() const { return layer_->count() ? layer_->currentData().toInt() : -1; }
int RoutingPanel::shownHead() const { return head_->count() ? head_->currentData().toInt() : -1; }

const RoutingStep* RoutingPanel::selectedStep() const {
  const int index = step_->currentIndex();
  return index >= 0 && index < int(steps_.size()) ? steps_[index].get() : nullptr;
}

const RoutingTrace* RoutingPanel::selectedTrace() const {
  const RoutingStep* step = selectedStep();
  return step ? step->find(shownLayer(), shownHead()) : nullptr;
}

void RoutingPanel::syncLayersAndHeads() {
  const RoutingStep* step = selectedStep();
  if (!step) return;
  const int layer = layer_->count() ? shownLayer() : kept_layer_;
  const int head = head_->count() ? shownHead() : kept_head_;
  std::vector<int> layers, heads;
  for (const RoutingTrace& t : step->traces) {
    layers.push_back(t.layer);
    heads.push_back(t.head);
  }
  for (std::vector<int>* values : {&layers, &heads}) {
    std::sort(values->begin(), values->end());
    values->erase(std::unique(values->begin(), values->end()), values->end());
  }
  // Counted from 0, as --trace-layers, the Traced boxes and the plots count them: "1 of 2" would
  // read as the first.
  layer_->clear();
  for (int l : layers) layer_->addItem(tr("%1 (of 0–%2)").arg(l).arg(step->num_layers - 1), l);
  head_->clear();
  for (int h : heads) head_->addItem(tr("%1 (of 0–%2)").arg(h).arg(step->num_heads - 1), h);
  if (heads.size() > 1 && !step->head_means.empty()) head_->addItem(traced_heads_name(*step), kAllHeads);
  select_data(layer_, layer);
  select_data(head_, head);
}

QString RoutingPanel::whyNoMap(const RoutingTrace& trace, const QString& map) const {
  if (has_detail(trace)) return {};
  return trace.head == kAllHeads ? tr("%1: one head's; pick a head").arg(map)
                                 : tr("%1: dropped for older steps to bound memory").arg(map);
}

void RoutingPanel::clearPlot() {
  const int view = plot_axis_->currentIndex();
  plot_->clear(view == kPlotPhaseTimes, view == kPlotPerHead                              ? tr("head")
                                        : view == kPlotPerStep || view == kPlotPhaseTimes ? tr("step")
                                                                                          : tr("layer"));
}

void RoutingPanel::showSelection() {
  const RoutingStep* step = selectedStep();
  const RoutingTrace* trace = selectedTrace();
  // A trace without a map still says why there is none: the head means have no map of their own.
  block_map_->setTrace(trace && has_detail(*trace) ? trace : nullptr, trace ? whyNoMap(*trace, tr("Block map")) : QString());
  Q_EMIT selectionChanged();
  if (!step || !trace) {
    cluster_map_->setLabels({}, 0, 0, 0, 0);
    clearPlot();
    // A step may trace nothing for this choice (a hand-made file with no traces): say so rather
    // than leave an earlier selection's line. Without steps, clear()'s line stays.
    if (step) {
      const QString what = layer_->count() == 0 ? tr("no traces")
                           : shownHead() == kAllHeads
                               ? tr("no trace of layer %1, all heads").arg(shownLayer())
                               : tr("no trace of layer %1, head %2").arg(shownLayer()).arg(shownHead());
      summary_->setText(tr("<b>step %1/%2</b>: %3").arg(step->step + 1).arg(step->num_steps).arg(what));
    }
    return;
  }
  const bool query = labels_->currentIndex() == kQueryClusters;
  cluster_map_->setLabels(query ? trace->q_labels : trace->k_labels,
                          query ? trace->q_clusters : trace->k_clusters, step->grid_frames, step->grid_height,
                          step->grid_width, whyNoMap(*trace, tr("Cluster map")));
  showClusterFrame();
  switch (plot_axis_->currentIndex()) {
    case kPlotPerHead: plot_->showHeads(*step, trace->layer); break;
    case kPlotPerStep: plot_->showSteps(steps_, trace->layer, trace->head); break;
    case kPlotPhaseTimes: plot_->showPhaseTimes(steps_, trace->layer, trace->head); break;
    default: plot_->showLayers(*step, trace->head); break;
  }

  const QString head = trace->head == kAllHeads
                           ? tr("%1 (mean density and error, summed estimate)").arg(traced_heads_name(*step))
                           : tr("head %1").arg(trace->head);
  QString text = tr("<b>step %1/%2 · layer %3 · %4</b>: density %5 %")
                     .arg(step->step + 1)
                     .arg(step->num_steps)
                     .arg(trace->layer)
                     .arg(head)
                     .arg(100.0 * trace->density, 0, 'f', 1);
  if (std::isfinite(trace->estimated_log_error)) {
    text += tr(" · estimated log Σ ε̂² %1").arg(trace->estimated_log_error, 0, 'f', 2);
  }
  if (std::isfinite(trace->measured_relative_l2)) {
    text += tr(" · measured rel. L2 %1").arg(trace->measured_relative_l2, 0, 'f', 4);
  }
  text +=
      tr(" · %1 × %2 clusters · k-means %3, permute %4, probe %5, routing %6, attention %7 (all heads)")
          .arg(trace->q_clusters)
          .arg(trace->k_clusters)
          .arg(milliseconds(trace->kmeans_ms), milliseconds(trace->permute_ms), milliseconds(trace->probe_ms),
               milliseconds(trace->routing_ms), milliseconds(trace->attention_ms));
  if (trace->head == kAllHeads) {
    text += tr(" · <i>maps are per head: pick one to see them</i>");
  } else if (!has_detail(*trace)) {
    text += tr(" · <i>maps dropped for older steps to bound memory</i>");
  }
  summary_->setText(text);
}

// The shown latent frame's clusters over the clip frame at its time, and which video frames it
// spans (as the preview counts them, from 1).
void RoutingPanel::showClusterFrame() {
  cluster_map_->setFrame(frame_->value());
  const RoutingStep* step = selectedStep();
  const QString what = tr("Latent frame whose tokens the cluster map shows");
  const QString follows = tr("While the traces are of the clip the preview shows, it follows the preview's frame, "
                             "and sets it.");
  if (!clip_ || clip_->empty() || !step || step->grid_frames <= 0) {
    cluster_map_->setUnderlay(QImage());
    frame_->setToolTip(what + ". " + follows);
    return;
  }
  const TokenGrid3 grid = step->token_grid();
  const int first = video_frame_of(grid, clip_->frames, frame_->value());
  const int next = frame_->value() + 1 < step->grid_frames ? video_frame_of(grid, clip_->frames, frame_->value() + 1)
                                                           : clip_->frames;
  const int last = std::max(first, next - 1);
  cluster_map_->setUnderlay(frame_image(clip_, first));
  const QString frames = first == last ? tr("video frame %1").arg(first + 1)
                                       : tr("video frames %1–%2").arg(first + 1).arg(last + 1);
  frame_->setToolTip(
      tr("%1: %2 of its clip, counted from 1 as the preview counts them. %3").arg(what, frames, follows));
}

void RoutingPanel::save(QSettings& settings) const {
  settings.setValue("routing/trace", trace_->isChecked());
  settings.setValue("routing/audit", audit_->isChecked());
  settings.setValue("routing/layers", trace_layers_->text());
  settings.setValue("routing/heads", trace_heads_->text());
  settings.setValue("routing/colouring", colouring_->currentIndex());
  settings.setValue("routing/sort_by_size", sort_by_size_->isChecked());
  settings.setValue("routing/opacity", opacity_->value());
  settings.setValue("routing/plot_axis", plot_axis_->currentIndex());
}

void RoutingPanel::restore(const QSettings& settings) {
  trace_->setChecked(settings.value("routing/trace", true).toBool());
  audit_->setChecked(settings.value("routing/audit", false).toBool());
  trace_layers_->setText(settings.value("routing/layers").toString());
  trace_heads_->setText(settings.value("routing/heads").toString());
  colouring_->setCurrentIndex(std::clamp(settings.value("routing/colouring", 0).toInt(), 0, 1));
  block_map_->setColouring(BlockMapView::Colouring(colouring_->currentData().toInt()));
  sort_by_size_->setChecked(settings.value("routing/sort_by_size", false).toBool());
  opacity_->setValue(settings.value("routing/opacity", 85).toInt());
  plot_axis_->setCurrentIndex(
      std::clamp(settings.value("routing/plot_axis", 0).toInt(), 0, plot_axis_->count() - 1));
  if (steps_.empty()) clearPlot();
}

}  // namespace svgear
