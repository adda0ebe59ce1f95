#include "ui/generation_worker.h"

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <QMetaObject>

#include "core/metrics/video_quality.h"
#include "core/pipeline/dense_run_cache.h"
#include "core/pipeline/generation_request.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/model.h"
#include "core/pipeline/run_record.h"
#include "core/user_error.h"
#include "ui/comparison_video.h"
#include "ui/counted.h"
#include "ui/last_compare.h"

namespace svgear {
namespace {

// What the user reads of an error: LibTorch's errors without their C++ backtrace.
QString error_text(const std::exception& e) {
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&e)) {
    return QString::fromStdString(torch_error->what_without_backtrace());
  }
  return QString::fromStdString(e.what());
}

// Log lines, warnings and phases as the worker's signals, for every kind of run.
class LogSink : public EventSink {
 public:
  explicit LogSink(GenerationWorker& worker) : worker_(worker) {}
  void on_log(const std::string& line) override { Q_EMIT worker_.logLine(QString::fromStdString(line)); }
  void on_warning(const std::string& line) override { Q_EMIT worker_.warning(QString::fromStdString(line)); }
  void on_phase(RunPhase phase) override { Q_EMIT worker_.phaseChanged(phase); }

 protected:
  GenerationWorker& worker_;
};

// Forwards the Generator's events, called on the worker's thread, as the worker's signals. The
// receivers live on the GUI thread, so Qt queues each signal with a copy of its arguments: the
// engine's frame buffers are never shared with the GUI.
class SignalSink : public LogSink {
 public:
  using LogSink::LogSink;
  void on_step(const StepEvent& e) override { Q_EMIT worker_.stepDone(e); }
  void on_preview(const PreviewEvent& e) override { Q_EMIT worker_.previewReady(e.step, std::make_shared<const Video>(e.video)); }
  void on_routing(RoutingEvent e) override { Q_EMIT worker_.routingReady(std::make_shared<RoutingStep>(std::move(e))); }
  void on_finished(const FinishedEvent& e) override {
    Q_EMIT worker_.finished(std::make_shared<const Video>(e.video), e.total_ms);
  }
  void on_error(const ErrorEvent& e) override { Q_EMIT worker_.failed(QString::fromStdString(e.message)); }
};

// A Compare run's events: progress and log only. Its videos reach the GUI once both runs are done
// and measured, so the worker's finished / failed signals stay those of Generate.
class CompareSink : public LogSink {
 public:
  using LogSink::LogSink;
  void on_step(const StepEvent& e) override { Q_EMIT worker_.stepDone(e); }
};

// One finished run of a Compare: its frames as generated and its run record.
struct MeasuredRun {
  Video video;
  nlohmann::json record;
};

TraceOptions trace_options(const StudioRequest& s, int num_layers) {
  TraceOptions options;
  options.enabled = s.routing == RoutingRecording::Trace || s.routing == RoutingRecording::TraceAndAudit;
  options.layers = s.trace_layers;
  options.heads = s.trace_heads;
  if (s.routing == RoutingRecording::TraceAndAudit) {
    for (int layer = 0; layer < num_layers; ++layer) options.audit_layers.push_back(layer);  // where traced
  }
  return options;
}

GenerationRequest to_generation_request(const StudioRequest& s, const ModelManifest& model) {
  const int num_layers = model.dit.num_layers;
  GenerationRequest r;
  r.prompt = s.prompt;
  if (!s.negative_prompt.empty()) r.negative_prompt = s.negative_prompt;
  r.seed = s.seed;
  r.steps = s.steps;
  r.guidance = s.guidance;
  // The panel's low-noise box belongs to the model it last showed; one loaded since with a
  // single DiT has no such expert.
  if (model.low_noise_expert) r.low_noise_guidance = s.low_noise_guidance;
  r.shift = s.shift;
  r.noise = s.noise_on_device ? NoiseSource::Device : NoiseSource::Cpu;
  r.frames = s.frames;
  r.height = s.height;
  r.width = s.width;
  r.attention = s.attention;
  r.routing_trace = trace_options(s, num_layers);
  r.preview_every = 1;
  // A cancel in the final decode keeps the last step's estimate, which no preview shows (the last
  // preview is the step before's), as the window's cancel question and caption say.
  r.keep_estimate = true;
  return r;
}

// The LibTorch threads of this (the worker's) thread: `requested` (Settings ▸ Use every CPU core),
// or with 0 every core but one, which the GUI thread (and the software OpenGL of a machine without
// a GPU) keeps. Measured on the 2-core CI machine under load (tiny model, 64×64×8, 10 steps): 4.2 s
// with one intra-op thread, 13.2 s with two, which also starved the GUI's event loop; idle, shapes-s
// at 4 steps: 30.0 s with one, 15.3 s with two. OpenMP's thread count is per calling thread, so this
// runs on the worker's thread. Returns the count in use; OMP_NUM_THREADS, when set, wins.
int set_cpu_threads(int requested) {
  if (!std::getenv("OMP_NUM_THREADS")) {
    at::set_num_threads(requested > 0 ? requested : std::max(1, int(std::thread::hardware_concurrency()) - 1));
  }
  return at::get_num_threads();
}

QStringList to_qt(const std::vector<std::string>& words) {
  QStringList out;
  for (const auto& w : words) out << QString::fromStdString(w);
  return out;
}

}  // namespace

GenerationWorker::GenerationWorker() = default;
GenerationWorker::~GenerationWorker() = default;

int GenerationWorker::loadModel(const QString& folder, const ModelPlacement& placement) {
  cancel_.reset();  // on the caller's thread, as start() does: a cancel() after this one is never lost
  if (latest_load_) latest_load_->cancel();  // the previous choice gives way, queued or loading
  auto token = std::make_shared<CancelToken>(&cancel_);
  latest_load_ = token;
  const int number = ++loads_;
  QMetaObject::invokeMethod(this, [this, folder, placement, token, number] {
    // Stopped by cancel() (Esc, or the window's close) rather than by a newer choice.
    const auto cancelled_by_user = [&] {
      Q_EMIT logLine("loading " + folder + " cancelled");
      Q_EMIT modelLoadCancelled(folder, number);
    };
    if (token->is_cancelled()) {  // before it started: a newer choice's load says nothing of this one
      if (cancel_.is_cancelled()) {
        // Esc while it waited (behind a run, or a run's library entry being written): the window now
        // says no model is loaded, so the model before goes, as load() frees it. A newer choice's
        // load frees it itself.
        model_.reset();
        model_folder_.clear();
        cancelled_by_user();
      }
      return;
    }
    try {
      load(folder, placement, token, number);
    } catch (const Cancelled&) {
      if (cancel_.is_cancelled()) {
        cancelled_by_user();
      } else {
        Q_EMIT logLine("loading " + folder + " stopped: another model was chosen");
      }
    } catch (const std::exception& e) {
      Q_EMIT modelFailed(folder, error_text(e), number, keptModel());
    }
  }, Qt::QueuedConnection);
  return number;
}

void GenerationWorker::start(const StudioRequest& request) {
  // Reset here, on the caller's thread, so a cancel() right after start() is never lost.
  cancel_.reset();
  QMetaObject::invokeMethod(this, [this, request] { run(request); }, Qt::QueuedConnection);
}

void GenerationWorker::compare(const StudioRequest& request, const QString& cache_folder,
                               const QString& last_compare_folder) {
  cancel_.reset();
  QMetaObject::invokeMethod(
      this,
      [this, request, cache_folder, last_compare_folder] { runCompare(request, cache_folder, last_compare_folder); },
      Qt::QueuedConnection);
}

void GenerationWorker::sweep(const StudioRequest& request, const QString& cache_folder, const std::vector<double>& budgets) {
  cancel_.reset();
  QMetaObject::invokeMethod(this, [this, request, cache_folder, budgets] { runSweep(request, cache_folder, budgets); },
                            Qt::QueuedConnection);
}

void GenerationWorker::cancel() { cancel_.cancel(); }

ModelSummary GenerationWorker::keptModel() const { return model_ ? model_summary_ : ModelSummary(); }

void GenerationWorker::load(const QString& folder, const ModelPlacement& placement,
                            std::shared_ptr<CancelToken> cancel, int load_number) {
  set_cpu_threads(0);
  Q_EMIT logLine("loading the model in " + folder);
  // Another folder that is no model, or whose files' headers say the load would fail (a file missing,
  // truncated or of the wrong shapes), is refused before the model loaded now is freed: the studio
  // keeps a model it can run (modelFailed's `kept`). No tensor is read: headers, read again below.
  // Not for the loaded model's own folder (a new device or placement): the panels show the new one.
  if (model_ && folder != model_folder_) check_model_files(read_model_manifest(folder.toStdString()));
  // Then the old model goes before the new one is read, whatever becomes of the load: its weights
  // and the new ones need not fit in memory together.
  model_.reset();
  model_folder_.clear();
  model_cancel_ = std::move(cancel);
  const c10::Device cpu(c10::kCPU);
  ModelOptions options;
  if (placement.text_encoder_on_cpu) options.text_encoder_device = cpu;
  options.free_text_encoder = placement.free_text_encoder;
  if (placement.vae_on_cpu) options.vae_device = cpu;
  options.idle_expert_on_cpu = placement.idle_expert_on_cpu;
  options.dit_fp8 = placement.dit_fp8;
  options.cancel = model_cancel_.get();  // closing the window, Esc in a run that loads, or a newer choice
  options.on_progress = [this, load_number](const LoadStep& step) {
    Q_EMIT loadProgress(load_number, QString::fromStdString(step.part), step.done, step.total);
  };
  model_ = Model::load(folder.toStdString(), parse_device(placement.device), options);
  model_folder_ = folder;
  model_placement_ = placement;
  const ModelManifest& m = model_->manifest;
  ModelSummary summary;
  summary.folder = folder;
  summary.load = load_number;
  summary.name = QString::fromStdString(m.name);
  summary.description = QString::fromStdString(m.description);
  summary.device = QString::fromStdString(model_->device.str());
  if (model_->text_encoder_device && model_->vae_device) {  // what the load did, not what was asked
    summary.placement = "text encoder on " + QString::fromStdString(model_->text_encoder_device->str()) +
                        (model_->release_text_encoder ? ", freed after encoding" : "") + " · VAE on " +
                        QString::fromStdString(model_->vae_device->str());
    if (model_->idle_expert_on_cpu) {
      summary.placement += model_->idle_expert_page_locked ? " · idle expert on cpu"
                                                           : " · idle expert on cpu (pageable memory: slow moves)";
    }
    if (model_->dit_fp8) summary.placement += " · diffusion model quantised to fp8";
  }
  summary.vocabulary = to_qt(model_->text_encoder->vocabulary());
  summary.width = m.defaults.width;
  summary.height = m.defaults.height;
  summary.width_multiple = m.dit.patch_size[2] * m.spatial_factor;
  summary.height_multiple = m.dit.patch_size[1] * m.spatial_factor;
  summary.frames = m.defaults.frames;
  const FrameCounts frame_grid = frame_counts(m);
  summary.frames_first = frame_grid.first;
  summary.frames_step = frame_grid.step;
  summary.layers = m.dit.num_layers;
  summary.heads = m.dit.num_heads;
  summary.steps = m.defaults.steps;
  summary.guidance = m.defaults.guidance;
  summary.low_noise_guidance = m.defaults.low_noise_guidance;
  summary.shift = m.defaults.shift;
  try {
    check_model_defaults(m);
  } catch (const UserError& e) {
    summary.defaults_problem = QString::fromStdString(e.what());
  }
  model_summary_ = summary;
  Q_EMIT modelLoaded(summary);
}

bool GenerationWorker::loadFor(const StudioRequest& request) {
  const QString folder = QString::fromStdString(request.model_folder.string());
  if (folder.isEmpty()) {
    Q_EMIT failed("no model folder: choose one with File ▸ Open model folder…");
    return false;
  }
  // A new device matters to every model; the rest (the text encoder's and VAE's places, the idle
  // expert, the DiT in fp8) to Wan models only: built-in ones keep everything on their device.
  const auto parts = [this](ModelPlacement p) {  // all but the device
    p.device.clear();
    // The idle expert's place: a pair of experts on a GPU only.
    if (!model_->low_noise_dit || !model_->device.is_cuda()) p.idle_expert_on_cpu = false;
    return p;
  };
  const bool placement_changed =
      model_ && (parse_device(request.placement.device) != model_->device ||
                 (parts(request.placement) != parts(model_placement_) && model_->manifest.latent == LatentKind::WanVae));
  if (!model_ || folder != model_folder_ || placement_changed) {
    // The model before is freed as the load starts, unless the folder is refused on its headers
    // first: the model signals tell the window's Model panel which, as well as the run's.
    try {
      load(folder, request.placement, std::make_shared<CancelToken>(&cancel_), 0);
    } catch (const Cancelled&) {
      Q_EMIT modelLoadCancelled(folder, 0);
      Q_EMIT cancelled(nullptr, 0);
      return false;
    } catch (const std::exception& e) {
      Q_EMIT modelFailed(folder, error_text(e), 0, keptModel());
      throw;  // the run fails with it
    }
  } else {
    // The model stays: a newer choice that gave way to it (Esc while it waited, a folder that is no
    // model) cancelled its load's token, which its text encoder still polls. Esc reaches this run
    // through cancel_, the token's parent.
    model_cancel_->reset();
  }
  if (model_->device.is_cpu()) {
    const int threads = set_cpu_threads(request.cpu_threads);
    if (threads != cpu_threads_) Q_EMIT logLine("computing on " + counted(threads, "CPU thread", "CPU threads"));
    cpu_threads_ = threads;
  }
  return true;
}

void GenerationWorker::run(const StudioRequest& request) {
  // Generator::run reports its own errors through the sink; this catches what happens around it
  // (loading the model, copying results), so no exception can end the worker's thread.
  try {
    if (!loadFor(request)) return;
    Generator generator(*model_);
    SignalSink sink(*this);
    const GenerationResult result = generator.run(to_generation_request(request, model_->manifest), sink, cancel_);
    if (result.status == GenerationStatus::Cancelled) {
      Q_EMIT cancelled(result.video.empty() ? nullptr : std::make_shared<const Video>(result.video), result.steps_done);
    }
    if (result.status == GenerationStatus::Finished) keep_in_library(result);
  } catch (const std::exception& e) {
    Q_EMIT failed(error_text(e));
  }
}

void GenerationWorker::keep_in_library(const GenerationResult& result) {
  // A library that cannot be written costs the history entry, not the run: warn (the video now
  // lives only in the window) and go on.
  const WritingGuard writing(*this);
  try {
    const LibraryEntry entry = library_.add(result.video, make_run_record(result, *model_));
    Q_EMIT librarySaved(entry);
  } catch (const std::exception& e) {
    Q_EMIT warning(QString("this run was not kept in the library: export it (File ▸ Export video, Ctrl+E) before "
                           "the next run or closing the studio replaces it. Reason: %1")
                       .arg(error_text(e)));
  }
}

namespace {

// Runs `request` for a Compare or a sweep; nullopt when it was cancelled (the worker has said so).
// Throws when the run fails. Its frames are measured as generated: H.264 would add its own loss
// to the attention's (and can hide a small difference entirely).
std::optional<MeasuredRun> run_measured(GenerationWorker& worker, Model& model, const CancelToken& cancel,
                                        const GenerationRequest& request, const std::string& name) {
  Generator generator(model);
  CompareSink sink(worker);
  GenerationResult result = generator.run(request, sink, cancel);
  if (result.status == GenerationStatus::Cancelled) {
    Q_EMIT worker.cancelled(nullptr, result.steps_done);
    return std::nullopt;
  }
  if (result.status != GenerationStatus::Finished) throw std::runtime_error(name + " run failed: " + result.error);
  nlohmann::json record = make_run_record(result, model);
  return MeasuredRun{std::move(result.video), std::move(record)};
}

// The sparse knobs a Compare's result names, from the resolved request: the cluster counts as they
// run (the size's query count for Auto, both at most the clip's tokens).
std::string sparse_settings_text(const GenerationRequest& resolved) {
  const AttentionConfig& a = resolved.attention;
  char text[128];
  std::snprintf(text, sizeof text, "top-p %g, %d query / %d key clusters", a.top_p, a.q_clusters, a.k_clusters);
  return text;
}

// The sparse request of a Compare or sweep (SVG-EAR when the panels ask for dense; no traces or
// previews, which would slow the runs being timed), resolved against the model.
GenerationRequest sparse_request_for(const StudioRequest& studio_request, const Model& model) {
  StudioRequest sparse = studio_request;
  sparse.attention.mode = compared_sparse_mode(studio_request);
  sparse.routing = RoutingRecording::Off;
  GenerationRequest request = to_generation_request(sparse, model.manifest);
  request.preview_every = 0;
  request.keep_estimate = false;  // a cancelled Compare or sweep keeps no partial run
  return request.resolve(model.manifest);
}

// The dense side of a Compare or sweep: the cached run of this request when there is one, else a
// new run, kept in the cache (which is then trimmed to kDenseCacheBytes).
std::optional<MeasuredRun> dense_run(GenerationWorker& worker, Model& model, const CancelToken& cancel,
                                     const GenerationRequest& sparse_request, const QString& cache_folder, bool& reused) {
  GenerationRequest dense_request = sparse_request;
  dense_request.attention.mode = AttentionMode::Dense;
  const nlohmann::json key = dense_cache_key(dense_request, model);
  const std::filesystem::path root = cache_folder.toStdString();
  const std::filesystem::path dir = dense_cache_folder(root, key);
  std::string note;
  std::optional<CachedDenseFrames> cached = find_cached_dense_frames(dir, key, &note);
  if (!note.empty()) Q_EMIT worker.logLine(QString::fromStdString(note));
  if (cached) {
    Q_EMIT worker.logLine(QString("reusing the cached dense run in %1 (same request, model and device)")
                              .arg(QString::fromStdString(dir.string())));
    reused = true;
    Q_EMIT worker.denseRunCached(true);
    return MeasuredRun{std::move(cached->frames), std::move(cached->record)};
  }
  reused = false;
  Q_EMIT worker.compareRunStarted("dense", 0);
  std::optional<MeasuredRun> run = run_measured(worker, model, cancel, dense_request, "dense");
  if (!run) return std::nullopt;
  // A cache that cannot be written costs the next Compare a dense run, not this one.
  const GenerationWorker::WritingGuard writing(worker);
  bool kept = false;
  try {
    keep_dense_frames(dir, run->video, run->record);
    kept = true;
    trim_dense_cache(root, kDenseCacheBytes, dir);
  } catch (const std::exception& e) {
    Q_EMIT worker.logLine((kept ? QString("the compare cache could not be trimmed: %1")
                                : QString("the dense run was not cached: %1"))
                              .arg(error_text(e)));
  }
  Q_EMIT worker.denseRunCached(kept);
  return run;
}

}  // namespace

void GenerationWorker::runCompare(const StudioRequest& studio_request, const QString& cache_folder,
                                  const QString& last_compare_folder) {
  try {
    if (!loadFor(studio_request)) return;
    const GenerationRequest sparse_request = sparse_request_for(studio_request, *model_);
    const std::string mode = attention_mode_name(sparse_request.attention.mode);
    CompareResult out;
    out.sparse_mode = mode;
    out.sparse_settings = sparse_settings_text(sparse_request);
    out.seed = sparse_request.seed;
    out.prompt = studio_request.prompt;
    std::optional<MeasuredRun> dense = dense_run(*this, *model_, cancel_, sparse_request, cache_folder, out.dense_reused);
    if (!dense) return;
    Q_EMIT compareRunStarted(QString::fromStdString(mode), 1);
    std::optional<MeasuredRun> sparse = run_measured(*this, *model_, cancel_, sparse_request, mode);
    if (!sparse) return;

    const std::string vae_warning = vae_fallback_warning(dense->record, sparse->record);
    if (!vae_warning.empty()) Q_EMIT warning(QString::fromStdString(vae_warning));
    const VideoQuality quality = compare_videos(dense->video, sparse->video);
    out.difference = std::make_shared<const Video>(difference_video(dense->video, sparse->video, out.largest_difference));
    out.dense = std::make_shared<const Video>(std::move(dense->video));
    out.sparse = std::make_shared<const Video>(std::move(sparse->video));
    out.psnr_db = quality.psnr_db;
    out.ssim = quality.ssim;
    out.mean_psnr_db = quality.mean_psnr_db;
    out.mean_ssim = quality.mean_ssim;
    out.dense_total_ms = total_ms_without_text_encoding(dense->record);
    out.sparse_total_ms = total_ms_without_text_encoding(sparse->record);
    out.dense_step_ms = mean_step_ms_after_first(dense->record);
    out.sparse_step_ms = mean_step_ms_after_first(sparse->record);
    out.steps = int(sparse->record.at("timings_ms").at("steps").size());
    out.created = sparse->record.value("created", "");
    Q_EMIT compareFinished(out);
    // A folder that cannot be written costs only the next start's view of this result.
    const WritingGuard writing(*this);
    try {
      keep_last_compare(last_compare_folder.toStdString(), out);
    } catch (const std::exception& e) {
      Q_EMIT logLine(QString("the Compare was not kept for the next start: %1").arg(error_text(e)));
    }
  } catch (const std::exception& e) {
    Q_EMIT failed(error_text(e));
  }
}

void GenerationWorker::runSweep(const StudioRequest& studio_request, const QString& cache_folder,
                                const std::vector<double>& budgets) {
  try {
    if (!loadFor(studio_request)) return;
    GenerationRequest sparse_request = sparse_request_for(studio_request, *model_);
    const std::string mode = attention_mode_name(sparse_request.attention.mode);
    bool reused = false;
    const std::optional<MeasuredRun> dense = dense_run(*this, *model_, cancel_, sparse_request, cache_folder, reused);
    if (!dense) return;
    const double dense_step_ms = mean_step_ms_after_first(dense->record);
    for (size_t i = 0; i < budgets.size(); ++i) {
      sparse_request.attention.top_p = budgets[i];
      char name[48];
      std::snprintf(name, sizeof name, "%s at top-p %.3f", mode.c_str(), budgets[i]);
      Q_EMIT sweepRunStarted(budgets[i], int(i), int(budgets.size()));
      const std::optional<MeasuredRun> run = run_measured(*this, *model_, cancel_, sparse_request, name);
      if (!run) return;
      const std::string vae_warning = vae_fallback_warning(dense->record, run->record);
      if (!vae_warning.empty()) Q_EMIT warning(QString::fromStdString(vae_warning));
      const VideoQuality quality = compare_videos(dense->video, run->video);
      Q_EMIT sweepPoint(SweepPoint{mode, budgets[i], quality.mean_psnr_db, quality.mean_ssim, mean_step_ms_after_first(run->record),
                                   dense_step_ms});
    }
    Q_EMIT sweepFinished(QString::fromStdString(mode), reused);
  } catch (const std::exception& e) {
    Q_EMIT failed(error_text(e));
  }
}

}  // namespace svgear
