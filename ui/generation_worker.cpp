#include "ui/generation_worker.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include <ATen/Parallel.h>
#include <QMetaObject>

#include "core/pipeline/generator.h"
#include "core/pipeline/model.h"

namespace svgear {
namespace {

// Forwards the Generator's events, called on the worker's thread, as the worker's signals. The
// receivers live on the GUI thread, so Qt queues each signal with a copy of its arguments: the
// engine's frame buffers are never shared with the GUI.
class SignalSink : public EventSink {
 public:
  explicit SignalSink(GenerationWorker& worker) : worker_(worker) {}
  void on_step(const StepEvent& e) override { Q_EMIT worker_.stepDone(e); }
  void on_preview(const PreviewEvent& e) override { Q_EMIT worker_.previewReady(e.step, e.video); }
  void on_routing(const RoutingEvent& e) override {
    Q_EMIT worker_.routingReady({e.step, e.num_steps, e.num_layers, e.num_heads, e.grid_frames, e.grid_height,
                                 e.grid_width, e.traces});
  }
  void on_finished(const FinishedEvent& e) override { Q_EMIT worker_.finished(e.video, e.total_ms); }
  void on_error(const ErrorEvent& e) override { Q_EMIT worker_.failed(QString::fromStdString(e.message)); }
  void on_log(const std::string& line) override { Q_EMIT worker_.logLine(QString::fromStdString(line)); }

 private:
  GenerationWorker& worker_;
};

TraceOptions trace_options(RoutingRecording recording, int num_layers) {
  TraceOptions options;
  options.enabled = recording == RoutingRecording::Trace || recording == RoutingRecording::TraceAndAudit;
  if (recording == RoutingRecording::TraceAndAudit) {
    for (int layer = 0; layer < num_layers; ++layer) options.audit_layers.push_back(layer);
  }
  return options;
}

GenerationRequest to_generation_request(const StudioRequest& s, int num_layers) {
  GenerationRequest r;
  r.prompt = s.prompt;
  if (!s.negative_prompt.empty()) r.negative_prompt = s.negative_prompt;
  r.seed = s.seed;
  r.steps = s.steps;
  r.guidance = s.guidance;
  r.shift = s.shift;
  r.frames = s.frames;
  r.height = s.height;
  r.width = s.width;
  r.attention = s.attention;
  r.routing_trace = trace_options(s.routing, num_layers);
  r.preview_every = 1;
  return r;
}

// The engine leaves one core to the GUI thread (and the software OpenGL of a machine without a
// GPU). Measured on the 2-core CI machine under load (tiny model, 64×64×8, 10 steps): 4.2 s with
// one intra-op thread, 13.2 s with two, which also starved the GUI's event loop. OpenMP's thread
// count is per calling thread, so this runs on the worker's thread; OMP_NUM_THREADS still wins.
void leave_a_core_to_the_gui() {
  if (std::getenv("OMP_NUM_THREADS")) return;
  at::set_num_threads(std::max(1, int(std::thread::hardware_concurrency()) - 1));
}

QStringList to_qt(const std::vector<std::string>& words) {
  QStringList out;
  for (const auto& w : words) out << QString::fromStdString(w);
  return out;
}

}  // namespace

GenerationWorker::GenerationWorker() = default;
GenerationWorker::~GenerationWorker() = default;

void GenerationWorker::loadModel(const QString& folder) {
  QMetaObject::invokeMethod(this, [this, folder] {
    try {
      load(folder);
    } catch (const std::exception& e) {
      Q_EMIT modelFailed(folder, QString::fromStdString(e.what()));
    }
  }, Qt::QueuedConnection);
}

void GenerationWorker::start(const StudioRequest& request) {
  // Reset here, on the caller's thread, so a cancel() right after start() is never lost.
  cancel_.reset();
  QMetaObject::invokeMethod(this, [this, request] { run(request); }, Qt::QueuedConnection);
}

void GenerationWorker::cancel() { cancel_.cancel(); }

void GenerationWorker::load(const QString& folder) {
  leave_a_core_to_the_gui();
  Q_EMIT logLine("loading the model in " + folder);
  model_.reset();  // free the old model before the new one is read
  model_folder_.clear();
  model_ = Model::load(folder.toStdString(), parse_device("auto"));
  model_folder_ = folder;
  const ModelManifest& m = model_->manifest;
  ModelSummary summary;
  summary.folder = folder;
  summary.name = QString::fromStdString(m.name);
  summary.description = QString::fromStdString(m.description);
  summary.device = QString::fromStdString(model_->device.str());
  summary.vocabulary = to_qt(model_->text_encoder->vocabulary());
  summary.width = m.defaults.width;
  summary.height = m.defaults.height;
  summary.frames = m.defaults.frames;
  summary.steps = m.defaults.steps;
  summary.guidance = m.defaults.guidance;
  summary.shift = m.defaults.shift;
  Q_EMIT modelLoaded(summary);
}

void GenerationWorker::run(const StudioRequest& request) {
  const QString folder = QString::fromStdString(request.model_folder.string());
  if (folder.isEmpty()) {
    Q_EMIT failed("no model folder: choose one with File ▸ Open model folder…");
    return;
  }
  // Generator::run reports its own errors through the sink; this catches what happens around it
  // (loading the model, copying results), so no exception can end the worker's thread.
  try {
    if (!model_ || folder != model_folder_) load(folder);
    Generator generator(*model_);
    SignalSink sink(*this);
    const GenerationResult result = generator.run(to_generation_request(request, model_->manifest.dit.num_layers), sink, cancel_);
    if (result.status == GenerationStatus::Cancelled) Q_EMIT cancelled(result.video, result.steps_done);
  } catch (const std::exception& e) {
    Q_EMIT failed(QString::fromStdString(e.what()));
  }
}

}  // namespace svgear
