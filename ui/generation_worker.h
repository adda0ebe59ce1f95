#pragma once
// GenerationWorker: owns the loaded Model and runs svgear::Generator on its own QThread, never on
// the GUI thread. The GUI calls start()/cancel()/loadModel() from its thread; the work runs on the
// worker's thread and every engine event comes back as a queued signal: plain values, or shared
// pointers the GUI takes over for the large ones (videos as SharedVideo, copied once out of the
// engine's buffers; routing steps).
//
//   auto* worker = new GenerationWorker;           // no parent: it moves to its thread
//   worker->moveToThread(thread);
//   connect(thread, &QThread::finished, worker, &QObject::deleteLater);
//   connect(worker, &GenerationWorker::previewReady, window, ...);
//   worker->start(request);                        // returns at once
//   worker->cancel();                              // any thread; stops within one step
//   worker->compare(request, cache, last);         // dense and sparse of one request, side by side

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <QObject>
#include <QString>

#include "core/cancel_token.h"
#include "core/library/generation_library.h"
#include "core/media/video.h"
#include "core/pipeline/event_sink.h"
#include "ui/compare_result.h"
#include "ui/model_summary.h"
#include "ui/routing_step.h"
#include "ui/studio_request.h"
#include "ui/sweep_point.h"

namespace svgear {

// Compare and Sweep keep the most recently used dense runs up to this size (a Wan 480p run's
// frames deflate to tens of MB; the built-in model's to tens of KB); Generate ▸ Clear compare
// cache empties it.
inline constexpr uintmax_t kDenseCacheBytes = uintmax_t(4) << 30;

struct GenerationResult;
struct Model;

class GenerationWorker : public QObject {
  Q_OBJECT

 public:
  GenerationWorker();
  ~GenerationWorker() override;

  // Queue work on the worker's thread; both return at once. A load still queued or running when
  // loadModel is called again stops (between tensors: a Wan model's load takes minutes). Not during
  // a run (the window disables model choice then): loadModel resets the worker's token, which would
  // clear a cancel of that run, and the run's model gives up its token to the newer choice.
  // loadModel returns its load's number (1, 2, …), which the model signals carry.
  int loadModel(const QString& folder, const ModelPlacement& placement);
  void start(const StudioRequest& request);
  // Runs the request dense and with its sparse mode (SVG-EAR when it asks for dense), same seed,
  // reusing a dense run cached under `cache_folder` when the request matches. Reports steps of both
  // runs, then compareFinished, or cancelled / failed; the result then replaces the one kept in
  // `last_compare_folder` (ui/last_compare.h) for the next start.
  void compare(const StudioRequest& request, const QString& cache_folder, const QString& last_compare_folder);
  // A Pareto sweep: the dense run (cached like Compare's) and the sparse mode at each top-p budget,
  // same seed; a sweepPoint per budget, then sweepFinished, or cancelled / failed.
  void sweep(const StudioRequest& request, const QString& cache_folder, const std::vector<double>& budgets);
  // Thread-safe: the running generation stops at its next step or layer boundary.
  void cancel();
  // True while the worker writes a finished run (its library entry, a Compare's videos and
  // records), which a cancel does not stop: closing the window waits for it. Shared, so it outlives
  // the worker, which its thread deletes.
  std::shared_ptr<const std::atomic<bool>> writingFlag() const { return writing_; }
  // Marks the worker as writing for the guard's lifetime.
  class WritingGuard {
   public:
    explicit WritingGuard(const GenerationWorker& worker) : flag_(*worker.writing_) { flag_ = true; }
    ~WritingGuard() { flag_ = false; }
    WritingGuard(const WritingGuard&) = delete;
    WritingGuard& operator=(const WritingGuard&) = delete;

   private:
    std::atomic<bool>& flag_;
  };

 Q_SIGNALS:
  // `load`: the number loadModel returned (ModelSummary::load for modelLoaded; 0 for a run's own
  // load, whose failure or cancel also ends the run with failed / cancelled), so that the window
  // tells a superseded load of the same folder from the one it waits for.
  void modelLoaded(const svgear::ModelSummary& summary);
  // `kept`: the model loaded before, when it stays (another folder refused on its files' headers,
  // before that model was freed); its folder is empty when no model is loaded now.
  void modelFailed(const QString& folder, const QString& message, int load, const svgear::ModelSummary& kept);
  // ModelOptions::on_progress of a Wan model's load: `part` ("text encoder", …) has `done` of its
  // `total` bytes read; at its start, every further percent and its end.
  void loadProgress(int load, const QString& part, qint64 done, qint64 total);
  // EventSink::on_warning (a prompt cut short, a sparse mode without its kernel, the VAE's tiles
  // after running out of memory), and a Compare's or sweep's two runs decoded differently.
  void warning(const QString& line);
  // A loadModel that cancel() stopped, queued or loading (not one a newer loadModel replaced), or a
  // run's own load (0).
  void modelLoadCancelled(const QString& folder, int load);
  // EventSink::on_phase: the prompt's encoding, the steps, the final decode (of every kind of run).
  void phaseChanged(svgear::RunPhase phase);
  void stepDone(const svgear::StepEvent& step);
  // Videos cross as shared, immutable frames, which the GUI never copies.
  void previewReady(int step, svgear::SharedVideo video);
  // One step's routing traces, when the request traces routing and the step had sparse calls.
  // The receiver takes the step over (it may change it): one receiver only.
  void routingReady(std::shared_ptr<svgear::RoutingStep> routing);
  void finished(svgear::SharedVideo video, double total_ms);
  // steps_done of the request's steps ran; `partial` is the last preview (null when none).
  void cancelled(svgear::SharedVideo partial, int steps_done);
  void failed(const QString& message);
  void logLine(const QString& line);
  // A finished run was kept in the generation library (core/library) as `entry`.
  void librarySaved(const svgear::LibraryEntry& entry);
  // A Compare run starts: `run` is "dense" or the sparse mode, `index` 0 or 1 of the two.
  void compareRunStarted(const QString& run, int index);
  // The dense run of a Compare or sweep is in the cache for the next one (reused, or written now),
  // or could not be written there (the log says why).
  void denseRunCached(bool cached);
  void compareFinished(const svgear::CompareResult& result);
  void sweepRunStarted(double top_p, int index, int total);
  void sweepPoint(const svgear::SweepPoint& point);
  void sweepFinished(const QString& mode, bool dense_reused);

 private:
  // Both run on the worker's thread. load() throws what Model::load throws; `cancel` stops it and
  // then stays with the model, whose text encoder keeps a pointer to it (to poll while it reloads
  // the weights it freed after encoding: Free it after encoding).
  void load(const QString& folder, const ModelPlacement& placement, std::shared_ptr<CancelToken> cancel, int load_number);
  ModelSummary keptModel() const;  // the loaded model's summary, or one without a folder when none is loaded
  // The request's model, loaded unless it already is; false (and failed emitted) without a folder.
  bool loadFor(const StudioRequest& request);
  void run(const StudioRequest& request);
  void runCompare(const StudioRequest& request, const QString& cache_folder, const QString& last_compare_folder);
  void runSweep(const StudioRequest& request, const QString& cache_folder, const std::vector<double>& budgets);
  void keep_in_library(const GenerationResult& result);

  std::shared_ptr<std::atomic<bool>> writing_ = std::make_shared<std::atomic<bool>>(false);
  CancelToken cancel_;  // the running work's; the parent of every load's token
  // The last loadModel's token, on the GUI thread only: the next loadModel cancels it.
  std::shared_ptr<CancelToken> latest_load_;
  int loads_ = 0;  // loadModel calls so far, on the GUI thread only
  // The load's token, before model_, whose text encoder keeps a pointer to it (and polls it when it
  // reloads freed weights); a newer choice that gave way leaves it cancelled, so a run resets it.
  std::shared_ptr<CancelToken> model_cancel_;
  std::unique_ptr<Model> model_;
  QString model_folder_;
  ModelPlacement model_placement_;  // what the loaded model was loaded with
  ModelSummary model_summary_;      // what modelLoaded said of it
  int cpu_threads_ = 0;  // the last count logged
  GenerationLibrary library_{default_library_root()};
};

}  // namespace svgear

Q_DECLARE_METATYPE(svgear::RunPhase)
Q_DECLARE_METATYPE(svgear::StepEvent)
Q_DECLARE_METATYPE(svgear::SharedVideo)
Q_DECLARE_METATYPE(svgear::LibraryEntry)
