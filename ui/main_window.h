#pragma once
// MainWindow: the studio's window. It arranges the panels (model, prompt, settings, log, routing)
// around the preview, owns the worker thread, and turns the worker's signals into what the user sees.
// It holds no engine state beyond the last result's frames: the engine lives in GenerationWorker.

#include <QElapsedTimer>
#include <QMainWindow>
#include <QPointer>
#include <QSet>
#include <QStringList>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "core/cancel_token.h"
#include "core/media/video.h"
#include "core/pipeline/event_sink.h"
#include "ui/exporter.h"

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QMessageBox;
class QProgressBar;
class QThread;
class QTimer;

namespace svgear {

// The studio's exit status when work goes on after the window closed (a DiT block that does not
// stop, file work on a mount that stopped answering) and it quits without it; not 0, so a test
// that closes a window mid-run cannot pass by the quick exit.
inline constexpr int kExitWorkDidNotStop = 3;

struct DenseCacheUsage;
class CompareView;
class GenerationWorker;
class LibraryPanel;
class SweepView;
class LogPanel;
class ModelPicker;
class PreviewPane;
class PromptPanel;
class RoutingPanel;
class SettingsPanel;
class StatusLine;
struct CompareResult;
struct LibraryEntry;
struct ModelSummary;
struct StudioRequest;
struct SweepPoint;
struct RoutingStep;

// What the Routing panel says for a Generate while no step of routing has come, and after it if it
// ended before its first sparse step (1-based; past the last for a run with none); empty when it
// records none (the panel's own text says how to).
struct RoutingNotes {
  QString awaited, missed;
  int first_sparse_step = 0;
};

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // What the menus, buttons and shortcuts do; tests drive the same calls.
  // Loads `folder` on the worker and, once loaded, applies the model's default settings.
  void openModelFolder(const QString& folder);
  // Reloads a library entry: its model, prompts and settings (seed locked) into the panels and its
  // video into the preview, so Generate reproduces it. The video decodes off the GUI thread, so the
  // panels change once it has (a status line says so meanwhile). Errors are reported, nothing
  // changes then.
  void openLibraryEntry(const std::filesystem::path& folder);
  void generate();
  // Runs the request dense and sparse with the seed shown (no new seed is drawn, so a second
  // Compare of the same settings reuses the cached dense run) and shows them in the Compare panel.
  void compare();
  // Pareto sweep: dense once, then the sparse mode at each budget of the Sweep panel, same seed;
  // speed against PSNR in the Sweep panel.
  void sweep();
  void cancel();  // the running work, or else a model load the window asked for
  // Starts removing Compare's cached dense runs on the thread pool (Generate ▸ Clear compare cache
  // asks first): true when started; false, with the reason in the status bar, during a run (the
  // worker may be writing one) or another clearing. Compare and Sweep wait for it; the outcome is
  // logged.
  bool clearCompareCache();
  bool isClearingCompareCache() const { return clearing_cache_; }
  // Queue writing the last result on the export thread (Exporter) and return at once: true
  // when queued, false (reported) when there is nothing to export. The outcome is logged: the file
  // written, or the reason it was not.
  bool exportVideo(const QString& path);     // .mp4 (Y4M + PNG frames without FFmpeg) or .y4m
  // <folder>/frame_0000.png, ... when the folder is new or empty, else in a new folder in it,
  // svgear-<seed>-frames: files already there are never replaced.
  bool exportFrames(const QString& folder);
  // Where the export dialogs open: the folder the last export was written in (a frames folder's
  // parent), else the home folder; never one under /proc, /sys or /dev.
  static QString exportStartFolder();
  bool exportComparison(const QString& path);  // the last Compare: dense | sparse | difference
  // The Routing panel's steps as JSON (core/attention/routing_trace.h's fields per trace), queued
  // likewise: false (reported) when there are none.
  bool exportRoutingTrace(const QString& path);
  // A routing trace file (`svgear generate --trace`, an export) into the Routing panel, read on
  // the thread pool (a Wan trace is gigabytes; the panel's detail budget applies as it is read).
  // Refused during a run, whose steps the panel shows; a run started before it is read wins.
  bool openRoutingTrace(const QString& path);
  // An opening under way is not shown, and its read stops (a newer one, a run, the window closing).
  void stopTraceOpening();
  bool isOpeningTrace() const;

  bool isGenerating() const { return generating_; }
  bool isExporting() const { return pending_exports_ > 0; }
  // The last finished video, or the partial one a cancel kept; empty before the first.
  const Video& result() const;
  // The docks' context menu; its entries bring a panel behind a tab forward, as View's do.
  QMenu* createPopupMenu() override;

 protected:
  void closeEvent(QCloseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  bool focusNextPrevChild(bool next) override;
  bool event(QEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;  // keys for focused controls; the Model panel's size

 private:
  void buildActions();
  void buildDocks();
  void orderFocusChain();  // Tab as the panels read at first: left column, preview, right, bottom
  void focusPanel(QDockWidget* dock);  // the keyboard to a panel View has brought forward
  // The last session's model folder is gone: the default model, with its own settings.
  void loadDefaultInsteadOfGone();
  void noteDocksBehindTabs(QMenu* menu);
  void fitModelPanel();  // its whole height, unscrolled, where the prompt panel beneath can spare it
  // A Compare's views take the height their width allows a result's frames, from the preview
  // above them (which keeps kPreviewKeepsPx): once per result, so a drag back stays.
  void growCompareViews();
  void fitModelPanelIfColumnChanged();
  int modelColumnHeight() const;  // the Model and Prompt panels' together, as docked
  void connectWorker();
  // The request the panels describe, after drawing a new seed unless asked for the one shown or
  // the seed is locked; false (and the reason reported) when there is no prompt.
  enum class SeedChoice { NewUnlessLocked, AsShown };
  bool requestFromPanels(SeedChoice seed, StudioRequest& request);
  enum class Work { Generate, Compare, Sweep };
  // The shared start of Generate, Compare and sweep: the step counter and status, then busy.
  void beginRun(const StudioRequest& request, Work work, const QString& status);
  // The first preview, trace or result of a Generate: the Routing panel is cleared for its traces
  // then, so a request refused at once keeps the earlier run's. `clip` is this run's clip when the
  // preview shows one with it (null for a trace): the traces describe the preview only from then
  // on, so a trace that comes first (a sparse first step, or one step and no estimate at all) is
  // not drawn over the earlier run's clip while this run's is still to come.
  void takeRoutingForThisRun(const SharedVideo& clip);
  // Whether the Routing panel's traces are of the clip the preview shows; off, the inspector draws
  // nothing over it (another run's clusters).
  void setRoutingMatchesPreview(bool matches);
  void updateRoutingTitle();  // "Routing · seed N" (or the trace file's name) while it holds traces
  // The preview's inspector on the Routing panel's shown trace, where that trace is of the clip shown.
  void inspectShownTrace();
  void setGenerating(bool generating);
  void updateExportActions();  // each export enabled when it has something to write and no run is on
  void loadModel(const QString& folder);  // in the worker, with the picker's placement; Esc cancels it
  // The load the window waits for (its folder and loadModel's number; none: empty and 0), and the
  // run actions' state with it.
  void setLoading(const QString& folder, int load);
  bool runsAllowed() const;  // no run and no model load under way; a model and a known device
  QString whyNoRun() const;  // when runsAllowed() (for Compare and Sweep, cachedRunsAllowed()) is false, in the status line's words
  bool runsAllowedOrSay();   // runsAllowed(), else whyNoRun() in the status line
  // The status line says why Export video / PNG frames is off when `pressed` is its key; false
  // when it is no such key or the export is on.
  bool sayWhyNoExport(const QKeySequence& pressed);
  void setProgressSteps(int steps);  // the progress bar's range, "1 / 1 step" or "3 / 20 steps"
  bool cachedRunsAllowed() const;                  // and the dense-run cache is not being cleared
  void updateRunActions();
  void onModelLoadCancelled();  // the load the window waits for: the dock says so, runs are allowed
  // Lists the dense-run cache on the thread pool for the Generate menu; one asked for during another
  // follows it, once.
  void listCompareCache();
  void showCacheUsage(const DenseCacheUsage& usage);  // what the cache holds, as listed or cleared
  void updateClearCacheAction();  // on when listed, not empty, and neither a run nor a clear is on
  // A run can hold an hour of a GPU's work: closing the window asks before it throws that away.
  // True: close (no run, one already cancelled with Esc, or the artist chose to).
  bool closeDuringRunConfirmed();
  // Esc, the Cancel button or menu item: a run that has gone on for a while (30 s, or the setting
  // run/confirm_cancel_after_s) asks first, since one stray key would throw that work away.
  bool cancelDuringRunConfirmed();
  double cancelQuestionAfterS();  // the setting, or 30 s (said in the Log) where it is no number
  // Keeps a question about the run current while the run goes on: `describe` runs again at each of
  // its events (a step, a Compare's or sweep's next run, its end).
  void followRun(QMessageBox& ask, const std::function<void()>& describe);
  QString whatCancelKeeps() const;  // what Cancel would keep of the work now, for its question
  QString stepsDone() const;        // "step 3 of 20 done" for the questions; empty before the first
  void reportError(const QString& message);
  void onModelLoaded(const ModelSummary& model);
  // The panels that describe a model (Model, the prompt's words and examples, the Settings' experts
  // and video grid, the Routing panel's layers and heads) for `model`.
  void showModel(const ModelSummary& model);
  void onStep(const StepEvent& step);
  void showStepLine();  // the run's label, its last step's timings, elapsed time and ETA as of now
  QString stepLine(bool finished) const;  // that line; a finished run's says "done" for its ETA
  void startRunOfMany(const QString& label);  // a Compare's or sweep's next run begins
  void logWhichRunWasCancelled(const QString& ended, int steps_done);
  void onPreview(int step, const SharedVideo& video);
  void onFinished(const SharedVideo& video, double total_ms);
  void onCancelled(const SharedVideo& partial, int steps_done);
  void onFailed(const QString& message);
  void applyLibraryEntry(const LibraryEntry& entry, const StudioRequest& request, bool model_present,
                         bool model_is_current, Video video, bool clip_unreadable);
  void supersedeLibraryOpen();
  void onCompareRunStarted(const QString& run, int index);
  void onCompareFinished(const CompareResult& result);
  // The Compare kept at the last session's end (ui/last_compare.h), read off the GUI thread, shown
  // paused unless a Compare of this session came first.
  void showLastCompare();
  void onSweepRunStarted(double top_p, int index, int total);
  void onSweepFinished(const QString& mode, bool dense_reused);
  // Counts an export queued on the exporter (isExporting) and says so in the status bar.
  void beginExport(const QString& path);
  // What an export writes, taken when the user asks: a save dialog's event loop delivers a library
  // reload or a trace read meanwhile, which would otherwise put new content under the name shown.
  struct ResultToExport {
    SharedVideo video;  // null before the first result
    uint64_t seed = 0;
    bool partial = false;
    QString name() const;  // svgear-<seed>, -partial for a cancelled run's last estimate
  };
  ResultToExport resultToExport() const { return {result_, result_seed_, result_partial_}; }
  // Queues `result` (refused when there is none; a cancelled run's is logged as such); PNG frames
  // go into a folder named after it when `path` holds files.
  bool exportResult(const ResultToExport& result, const QString& path, Exporter::Format format);
  std::vector<std::shared_ptr<const RoutingStep>> routingToExport() const;  // the Routing panel's steps
  bool exportSteps(std::vector<std::shared_ptr<const RoutingStep>> steps, const QString& path);
  void showDock(const char* name);  // to the front, and shown again if View had closed it
  // A save dialog in exportStartFolder(); empty when cancelled.
  QString chooseExportPath(const QString& title, const QString& file_name, const QString& filter);
  QString videoFilter() const;  // the video types this build writes, for the export dialogs
  void chooseExportVideo();
  void chooseExportFrames();
  // Saves the window's settings; the problem, when they could not be written, else empty.
  QString saveSettings() const;
  void restoreSettings();

  ModelPicker* model_picker_;
  PromptPanel* prompt_panel_;
  SettingsPanel* settings_panel_;
  LogPanel* log_;
  RoutingPanel* routing_;
  PreviewPane* preview_;
  CompareView* compare_view_;
  LibraryPanel* library_;
  SweepView* sweep_view_;
  StatusLine* status_line_;
  QProgressBar* progress_;
  QLabel* step_label_;
  QAction* generate_action_ = nullptr;
  QAction* compare_action_ = nullptr;
  QAction* sweep_action_ = nullptr;
  QAction* cancel_action_ = nullptr;
  QAction* clear_cache_action_ = nullptr;  // its text says what the cache holds when the menu opens
  int cached_runs_ = 0;                    // what the cache held when the menu last listed it
  uintmax_t cached_bytes_ = 0;
  bool cache_listed_ = false;              // the counts above are the newest listing's (or a clear's)
  int cache_listing_ = 0;                  // the newest listing's number: a clear raises it, and the
                                           // listing under way is not shown
  bool listing_cache_ = false;
  bool list_cache_again_ = false;          // the menu opened again during that listing
  bool clearing_cache_ = false;
  QAction* open_model_action_ = nullptr;
  QAction* export_video_action_ = nullptr;
  QAction* export_frames_action_ = nullptr;
  QAction* export_comparison_action_ = nullptr;
  QAction* export_trace_action_ = nullptr;
  QAction* open_trace_action_ = nullptr;
  int trace_opening_ = 0;        // the newest opening's number: an older one is not shown
  std::shared_ptr<RoutingTraceReading> trace_reading_;  // the opening under way's stop flag and counts
  QTimer* trace_progress_ = nullptr;                    // shows those counts while it reads (active: reading)
  QString trace_progress_text_;  // what it showed last: another message meanwhile is not overwritten
  QThread* thread_;
  GenerationWorker* worker_;  // lives on thread_, deleted when it finishes
  std::shared_ptr<const std::atomic<bool>> worker_writing_;  // GenerationWorker::writingFlag
  QThread* export_thread_;
  Exporter* exporter_;  // lives on export_thread_, deleted when it finishes
  int pending_exports_ = 0;
  QSet<QDockWidget*> docks_behind_tabs_;  // as the View or docks' menu opened (noteDocksBehindTabs)

  bool generating_ = false;
  bool run_cancel_asked_ = false;  // Esc (or Cancel) during this run: it is ending anyway
  Work work_ = Work::Generate;  // what the running (or last) work is
  QString run_label_;           // during a Compare or sweep: which run, for the step line
  // The step line moves every second between step events, so that a long step (a cold first step,
  // k-means's init, a large frame) does not look like a hang: the run's (or Compare's and sweep's
  // current run's) start, the last step event and when it came.
  QTimer* step_clock_ = nullptr;
  QElapsedTimer run_started_, step_came_;
  QElapsedTimer work_started_;  // the whole Generate, Compare or sweep, for Cancel's question
  std::optional<StepEvent> last_step_;
  std::optional<RunPhase> run_phase_;  // the run's latest, for the step line
  bool run_stepped_ = false;  // a step of this run (of any of a Compare's or sweep's runs) finished
  QStringList history_before_run_;  // the prompt history and seed box before the run's request
  int seed_before_run_ = 0;
  bool model_panel_changed_ = false;  // its rows changed: fitModelPanel() once the window's layout has them
  // The Model and Prompt panels' height together: when it changes (the bottom docks dragged, or
  // grown for the Compare panel), the Model panel takes back what it gave up, from the prompt history
  // first, once both have their sizes (model_fit_queued_). While a
  // dock separator is dragged, Qt lays the docks out afresh from the drag's start at each move and
  // would undo a fit: the height at the press waits for the release.
  int model_column_height_ = 0;
  bool model_fit_queued_ = false;
  bool dragging_separator_ = false;
  bool run_estimate_shown_ = false;  // the running (or last) Generate put an estimate on the preview
  QSet<QString> run_said_;  // the running work's warnings (and a Compare's or sweep's notes), each said once
  QString loading_folder_;  // the model folder the window asked the worker to load, until it answers
  int loading_load_ = 0;    // and that load's number: an older load of the same folder is not it
  // The load's part and how much of it is read ("text encoder 43% of 10.6 GiB"), while it loads.
  QString load_progress_;
  // loading_load_ of a load that waits for the device list (ModelPicker::deviceKnown).
  static constexpr int kLoadAwaitsDevices = -1;
  bool apply_model_defaults_ = false;  // set by openModelFolder until the chosen model has loaded
  // A library entry's "Reloaded …" status while its model loads: the load's "ready" keeps it.
  QString reload_folder_;
  QString reload_status_;
  // The model the settings were last fitted to (its defaults applied or the settings kept for it, at
  // its load): choosing it again, after a folder that was no model, keeps what the artist set.
  QString fitted_folder_;
  // The folder of the model the worker holds, as its signals last said; empty while none is or a load
  // runs. Choosing it again in the list keeps it rather than reading its weights again.
  QString loaded_folder_;
  QPointer<QWidget> focus_before_run_;  // the focused control when the last run began
  QString start_folder_;                 // the last session's model while its load at start is under way
  QString gone_at_start_;                // that folder, gone: the default loads once the scan ends
  // The settings are the user's: sizes edited or a library entry applied, now or in a session before
  // (settings/chosen; a closed window saves its settings whether chosen or not). The first start's
  // default model then does not bring its sizes.
  bool settings_chosen_ = false;
  QString settings_unsaved_said_;  // the last save problem the Log was told of
  bool shown_once_ = false;  // the first Show sizes the first layout's bottom panels, raises floating ones
  bool layout_restored_ = false;  // the docks' places and sizes came from the last session
  bool first_start_ = false;       // no settings were saved before: the panels' values are nobody's choice
  // Whether Idle expert on the CPU changes the chosen model: a pair of experts loaded on a GPU, or
  // one that has not loaded (a pair may have failed for want of the memory it frees).
  bool idle_expert_matters_ = true;
  int requested_steps_ = 0;
  uint64_t requested_seed_ = 0;
  SharedVideo result_;  // null before the first result; shared with the preview and exports
  bool result_partial_ = false;  // result_ is a cancelled run's last estimate
  uint64_t result_seed_ = 0;   // result_'s seed: export names follow the video exported, not the last request
  // The running Compare's run: -1 before either (loading the model), 0 dense, 1 sparse (the dense
  // one finished or reused).
  int compare_run_ = -1;
  bool compare_dense_cached_ = false;  // its dense run is in the cache for the next Compare
  // A Compare began in this session: the last session's, read at start, no longer takes the panel.
  bool compared_this_session_ = false;
  uint64_t routing_seed_ = 0;  // the Routing panel's run's (a Compare or a sweep keeps its steps)
  QString routing_source_;     // what the dock title names: "seed N", or the trace file opened
  // A Generate (of requested_seed_) started, and none of its previews or traces came yet.
  bool routing_clear_pending_ = false;
  RoutingNotes routing_notes_;  // the running Generate's
  bool routing_matches_preview_ = false;
  // The library reload still decoding, if any. A later reload, a run or a model choice supersedes
  // it (supersedeLibraryOpen): its decode stops at the next frame and its result is dropped.
  std::shared_ptr<CancelToken> library_open_;
};

}  // namespace svgear
