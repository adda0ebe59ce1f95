#include "ui/main_window.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include <QAbstractButton>
#include <QAbstractItemView>
#include <QAbstractSpinBox>
#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDeadlineTimer>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QKeyEvent>
#include <QLabel>
#include <QLocale>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMouseEvent>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScreen>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStatusTipEvent>
#include <QTabBar>
#include <QThread>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QtConcurrent/QtConcurrentRun>

#include "core/attention/attention_config.h"
#include "core/attention/routing_trace.h"
#include "core/attention/sparse_schedule.h"
#include "core/media/media_error.h"
#include "core/media/mp4_writer.h"
#include "core/media/video_reader.h"
#include "core/metrics/video_quality.h"
#include "core/pipeline/dense_run_cache.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/model.h"
#include "core/pipeline/routing_trace_file.h"
#include "core/pipeline/time_left.h"
#include "core/user_error.h"
#include "ui/bidi_controls.h"
#include "ui/compare_view.h"
#include "ui/counted.h"
#include "ui/dock_scroll_area.h"
#include "ui/generation_worker.h"
#include "ui/keyboard_shortcuts_dialog.h"
#include "ui/last_compare.h"
#include "ui/library_panel.h"
#include "ui/local_time.h"
#include "ui/log_panel.h"
#include "ui/model_picker.h"
#include "ui/model_summary.h"
#include "ui/preview_pane.h"
#include "ui/preview_widget.h"
#include "ui/prompt_panel.h"
#include "ui/routing_panel.h"
#include "ui/settings_panel.h"
#include "ui/speedup_text.h"
#include "ui/status_line.h"
#include "ui/sweep_view.h"
#include "ui/text_head.h"
#include "svgear/build_config.h"

namespace svgear {
namespace {

// How long closing the window waits for a cancelled run to stop (then kExitWorkDidNotStop).
constexpr int kWorkerStopMs = 10000;
// How long it waits for the exports asked for: a Wan clip's MP4 or a traced run's JSON takes
// seconds to a minute, a file system that stopped answering for ever.
constexpr int kExportStopMs = 300000;
// Height left on the screen for a window manager's title bar on the first start.
constexpr int kWindowFrameRoom = 40;
// The bottom panels' height in the first layout: the Routing views' and a whole row of the Library.
constexpr int kBottomPanelsPx = 290;
// What a Compare's views leave the preview when they grow (growCompareViews): a clip and its
// controls at a usable size.
constexpr int kPreviewKeepsPx = 320;

QString seconds(double ms) { return QString::number(ms / 1000.0, 'f', ms < 10000 ? 2 : 1) + " s"; }

// A run's length in whole units: "42 s", "2 min 5 s", "1 h 3 min".
QString elapsed_text(qint64 ms) {
  const qint64 s = ms / 1000;
  if (s < 60) return QObject::tr("%1 s").arg(s);
  if (s < 3600) return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QObject::tr("%1 h %2 min").arg(s / 3600).arg(s % 3600 / 60);
}

// A library entry as the thread pool reads it (record, request, video; a folder on a network mount
// takes a while): all of it, or why it could not be read.
struct OpenedEntry {
  LibraryEntry entry;
  StudioRequest request;
  bool model_present = false;  // the request's model folder is there (and readable)
  // It is the folder loaded now, however either is written (a record names it absolute, the Model
  // panel as found or chosen): a string compare had reloaded the same model.
  bool model_is_current = false;
  bool clip_unreadable = false;  // its frames or video are there but none could be read (not deleted)
  Video video;
  std::string fallback_note;  // why the exact frames were passed over for the video, or why no clip read
  std::string error;
};

QString describe(const Video& v) {
  return QString("%1×%2, %3")
      .arg(v.width)
      .arg(v.height)
      .arg(counted(v.frames, QObject::tr("frame"), QObject::tr("frames")));
}

// "64×64, 8 frames, 3 steps, seed 7" for the log. The prompt goes in with one multi-argument arg():
// chained ones would read a "%1" typed in it as a place for the next value.
QString run_summary(const StudioRequest& r) {
  return QObject::tr("%1×%2, %3, %4, seed %5")
      .arg(r.width)
      .arg(r.height)
      .arg(counted(r.frames, QObject::tr("frame"), QObject::tr("frames")),
           counted(r.steps, QObject::tr("step"), QObject::tr("steps")))
      .arg(qulonglong(r.seed));
}

// The prompt, quoted, for the log: its first 400 characters and its length when longer (a pasted
// prompt of 64,000 characters had filled screens of the Log, every run).
QString logged_prompt(const std::string& prompt) {
  const QString whole = QString::fromStdString(prompt);
  const QString head = text_head(whole, 400, "…");
  if (head.size() == whole.size()) return '"' + whole + '"';
  return QObject::tr("\"%1\" (%2 characters)").arg(head, QString::number(whole.size()));
}

// The sparse mode a Compare or sweep runs, for the log: in dense mode, whose knobs are greyed out
// for Generate, SVG-EAR at those knobs, said so.
QString compared_mode_text(const StudioRequest& r) {
  const QString name = attention_mode_name(compared_sparse_mode(r));
  return r.attention.mode == AttentionMode::Dense ? QObject::tr("%1 (the mode is dense: the knobs shown)").arg(name)
                                                  : name;
}

// What the Routing panel says for a Generate that records routing while no step has come (its
// dense warm-up): "generate with SVG-EAR and Trace ticked" had told the artist to do what they had
// done. Then what it says if the run ends before its first sparse step.
RoutingNotes routing_notes(const StudioRequest& r) {
  if (r.routing == RoutingRecording::Off) return {};
  if (r.attention.mode == AttentionMode::Dense) {
    const QString none = QObject::tr("No routing in this run: its attention is dense (SVG2 and SVG-EAR route blocks).");
    return {none, none, r.steps + 1};
  }
  const int dense = dense_step_count(r.attention.dense_warmup_steps, r.steps);
  if (dense >= r.steps) {
    const QString none = QObject::tr("No routing in this run: all its steps are dense warm-up (Settings ▸ Dense "
                                     "warm-up steps).");
    return {none, none, r.steps + 1};
  }
  const QString warmup = dense == 0 ? QString()
                         : dense == 1 ? QObject::tr(" (step 1 is dense warm-up)")
                                      : QObject::tr(" (steps 1–%1 are dense warm-up)").arg(dense);
  return {QObject::tr("Waiting for step %1 of %2, the first sparse one%3: its routing shows once it has run.")
              .arg(dense + 1)
              .arg(r.steps)
              .arg(warmup),
          QObject::tr("No routing: the run ended before step %1, its first sparse one%2.").arg(dense + 1).arg(warmup),
          dense + 1};
}

// A sparse Generate past its first sparse step with no routing: every traced layer ran dense (the
// dense-layers fraction at 1, or the Traced layers among the dense ones).
QString no_sparse_traced_layer_note() {
  return QObject::tr("No routing: every traced layer ran dense attention (Settings ▸ Dense layers, and the "
                     "Routing panel's Traced layers).");
}

// How a run's next clip follows the preview's: after the run's own estimate, or as another video
// (its first estimate; the final clip or partial of a one-step run, which sends none).
PreviewPane::Clip clip_of_the_run(bool estimate_shown) {
  return estimate_shown ? PreviewPane::Clip::NextOfTheRun : PreviewPane::Clip::Another;
}

// An error's first sentence or line, for a line that must stay short (the status line, a panel's
// summary), saying when there is more in the Log: a model's whole vocabulary, or the request's
// other problems (one a line), which had gone unmentioned.
QString brief_error(const QString& message) {
  const int sentence = message.indexOf(". "), line = message.indexOf('\n');
  const int end = sentence > 0 && (line < 0 || sentence < line) ? sentence + 1 : line;
  return end > 0 ? message.left(end) + QObject::tr(" … (all of it in the Log)") : message;
}

// Compare's dense runs, kept between sessions: a later Compare or sweep of the same request
// reuses them.
QString dense_run_cache_folder() {
  return QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + "/compare";
}

// Beside the dense-run cache, whose trimming and clearing touch only its own folders.
QString last_compare_folder() {
  return QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + "/last-compare";
}

// The last session's Compare as the thread pool reads it: a Wan clip's two videos are ~0.2 GB.
struct LastCompareRead {
  std::optional<CompareResult> result;
  QString error;
};

// In the unit that shows it (KiB, MiB, GiB, as the cache's 4 GiB cap): a tiny model's cache read "0.0 MB".
QString data_size(uintmax_t bytes) { return QLocale().formattedDataSize(qint64(bytes), 1, QLocale::DataSizeIecFormat); }

QDockWidget* add_dock(QMainWindow* window, const QString& title, const char* name, QWidget* content,
                      Qt::DockWidgetArea area) {
  auto* dock = new QDockWidget(title, window);
  dock->setObjectName(name);  // restoreState() finds docks by name
  content->setParent(dock);
  dock->setWidget(content);
  window->addDockWidget(area, dock);
  return dock;
}

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      model_picker_(new ModelPicker(this)),
      prompt_panel_(new PromptPanel(this)),
      settings_panel_(new SettingsPanel(this)),
      log_(new LogPanel(this)),
      routing_(new RoutingPanel(this)),
      preview_(new PreviewPane(this)),
      compare_view_(new CompareView(this)),
      library_(new LibraryPanel(default_library_root(), this)),
      sweep_view_(new SweepView(this)),
      status_line_(new StatusLine(this)),
      progress_(new QProgressBar(this)),
      step_label_(new QLabel(this)),
      thread_(new QThread(this)),
      worker_(new GenerationWorker),
      worker_writing_(worker_->writingFlag()),
      export_thread_(new QThread(this)),
      exporter_(new Exporter) {
  setWindowTitle("SVG-EAR Studio");
  preview_->setObjectName("preview");
  settings_panel_->setObjectName("settings");
  setCentralWidget(preview_);
  buildDocks();
  buildActions();

  progress_->setObjectName("progress");
  progress_->setMaximumWidth(260);
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setFormat("%v / %m steps");
  progress_->setTextVisible(false);  // "0 / 1 steps" before any run would describe none
  step_label_->setObjectName("step_timings");
  setStatusBar(status_line_);
  statusBar()->addPermanentWidget(step_label_);
  step_clock_ = new QTimer(this);
  step_clock_->setInterval(1000);
  connect(step_clock_, &QTimer::timeout, this, &MainWindow::showStepLine);
  statusBar()->addPermanentWidget(progress_);

  worker_->setObjectName("generation_worker");
  worker_->moveToThread(thread_);
  connect(thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connectWorker();
  thread_->setObjectName("generation");
  thread_->start();

  exporter_->moveToThread(export_thread_);
  connect(export_thread_, &QThread::finished, exporter_, &QObject::deleteLater);
  connect(exporter_, &Exporter::exported, this, [this](const QString& path, const QString& summary, const QString& note) {
    --pending_exports_;
    // The next export dialog opens where this export wrote (beside a file, or a frames folder). A
    // destination is kept only once written to: one that failed, such as /proc, whose files the
    // dialog reads and hangs on, had become every later dialog's start, across restarts too.
    QSettings().setValue("export/folder", QFileInfo(path).absolutePath());
    log_->info(summary);
    if (!note.isEmpty()) log_->info(note);
    statusBar()->showMessage(tr("Exported %1").arg(path));
  });
  connect(exporter_, &Exporter::failed, this, [this](const QString& path, const QString& message) {
    --pending_exports_;
    reportError(tr("could not export %1: %2").arg(path, message));
  });
  export_thread_->setObjectName("export");
  export_thread_->start();

  // The routing views need the width; a laptop's screen holds less (restoreGeometry() then keeps
  // what the user chose), less a title bar; never below the window's minimum.
  QSize first_size(1440, 900);
  if (const QScreen* shown_on = screen()) {
    first_size = first_size.boundedTo(shown_on->availableGeometry().size() - QSize(0, kWindowFrameRoom));
  }
  resize(first_size.expandedTo(minimumSizeHint()));
  restoreSettings();
  showLastCompare();
  setGenerating(false);
  if (model_picker_->awaitsDefault()) {
    statusBar()->showMessage(tr("Looking for models…"));
  } else if (loading_folder_.isEmpty()) {
    statusBar()->showMessage(tr("Ready"));
  }
  // Typing starts in the prompt, as the empty preview invites (it had started in the Model list).
  prompt_panel_->focusPrompt();
}

MainWindow::~MainWindow() {
  supersedeLibraryOpen();  // a reload still decoding stops at its next frame
  stopTraceOpening();      // and a trace being read at its next trace or MiB
  // Exports asked for are written before the window goes: the quit queues behind them.
  QMetaObject::invokeMethod(exporter_, [thread = export_thread_] { thread->quit(); }, Qt::QueuedConnection);
  // The worker stops at its next step boundary (or DiT block); its thread then quits and deletes it.
  worker_->cancel();
  thread_->quit();
  // A file system that stopped answering would hold an export, and the process without a window,
  // for ever: said on the terminal as it waits, and given up after kExportStopMs.
  for (int waited = 0; !export_thread_->wait(QDeadlineTimer(kWorkerStopMs)); waited += kWorkerStopMs) {
    if (waited + kWorkerStopMs >= kExportStopMs) {
      std::fprintf(stderr, "svgear-studio: an export did not finish within %d s of closing the window; quitting "
                   "without it (its file is left as it was)\n", kExportStopMs / 1000);
      std::fflush(stderr);
      std::_Exit(kExitWorkDidNotStop);
    }
    std::fprintf(stderr, "svgear-studio: still writing the exports asked for (%d s)\n",
                 (waited + kWorkerStopMs) / 1000);
    std::fflush(stderr);
  }
  while (!thread_->wait(QDeadlineTimer(kWorkerStopMs))) {
    if (worker_writing_->load()) continue;  // a finished run's entry or videos: never cut short
    // One DiT block of a huge request can run for minutes and cannot be interrupted: the process
    // must not linger without a window. The settings were saved on close and the exports are
    // written; the cancelled run has nothing to keep.
    std::fprintf(stderr, "svgear-studio: the run did not stop within %d s of closing the window; quitting without it\n",
                 kWorkerStopMs / 1000);
    std::fflush(stderr);
    std::_Exit(kExitWorkDidNotStop);
  }
}

void MainWindow::buildDocks() {
  // The bottom area spans the whole width: the routing views need it more than the side panels.
  setCorner(Qt::BottomLeftCorner, Qt::BottomDockWidgetArea);
  setCorner(Qt::BottomRightCorner, Qt::BottomDockWidgetArea);
  // The model and settings panels are taller than small screens: they scroll instead of making the
  // window taller than the screen or squeezing the preview.
  add_dock(this, tr("Model"), "model_dock", new DockScrollArea(model_picker_, DockScrollArea::Height::AtMostContent, this),
           Qt::LeftDockWidgetArea);
  add_dock(this, tr("Prompt"), "prompt_dock", prompt_panel_, Qt::LeftDockWidgetArea);
  add_dock(this, tr("Settings"), "settings_dock", new DockScrollArea(settings_panel_, DockScrollArea::Height::Grows, this),
           Qt::RightDockWidgetArea);
  QDockWidget* log_dock = add_dock(this, tr("Log"), "log_dock", log_, Qt::BottomDockWidgetArea);
  log_->setObjectName("log");
  // The bottom panels scroll too, on a screen shorter than their tallest (Sweep's plot and table):
  // at a scale of 1.25 a 1366×768 laptop holds 614 pixels, less than the window had needed.
  QDockWidget* routing_dock = add_dock(this, tr("Routing"), "routing_dock",
                                       new DockScrollArea(routing_, DockScrollArea::Height::Grows, this),
                                       Qt::BottomDockWidgetArea);
  routing_->setObjectName("routing");
  // The routing views need the width; the log keeps a narrow column beside them.
  splitDockWidget(log_dock, routing_dock, Qt::Horizontal);
  // Compare shares the routing's place, as a tab: it is raised when a Compare finishes. It scrolls
  // when its wrapped figures leave the views too little height (a short screen), which had drawn the
  // difference map over its caption.
  QDockWidget* compare_dock =
      add_dock(this, tr("Compare"), "compare_dock",
               new DockScrollArea(compare_view_, DockScrollArea::Height::Grows, this), Qt::BottomDockWidgetArea);
  compare_view_->setObjectName("compare");
  tabifyDockWidget(routing_dock, compare_dock);
  QDockWidget* library_dock = add_dock(this, tr("Library"), "library_dock",
                                       new DockScrollArea(library_, DockScrollArea::Height::Grows, this),
                                       Qt::BottomDockWidgetArea);
  library_->setObjectName("library");
  QDockWidget* sweep_dock = add_dock(this, tr("Sweep"), "sweep_dock",
                                     new DockScrollArea(sweep_view_, DockScrollArea::Height::Grows, this),
                                     Qt::BottomDockWidgetArea);
  sweep_view_->setObjectName("sweep");
  tabifyDockWidget(compare_dock, sweep_dock);
  tabifyDockWidget(sweep_dock, library_dock);
  routing_dock->raise();
  orderFocusChain();
  resizeDocks({log_dock, routing_dock}, {330, 950}, Qt::Horizontal);
  resizeDocks({routing_dock}, {kBottomPanelsPx}, Qt::Vertical);
  // The model panel keeps the height of its text; the prompt history takes what the routing leaves.
  model_picker_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
  connect(model_picker_, &ModelPicker::folderChosen, this, [this](const QString& f) { openModelFolder(f); });
  // The first start (no folder saved): the scan's default, once the scan has found it.
  // Runs wait for it (runsAllowed), so nothing but a load can be under way.
  connect(model_picker_, &ModelPicker::defaultFound, this, [this](const QString& f) {
    if (!loading_folder_.isEmpty()) return;
    // Settings nobody chose take the model's sizes; restored ones, or a library entry's opened while
    // the scan ran, stay.
    apply_model_defaults_ = !settings_chosen_;
    loadModel(f);
    // A Wan download left incomplete under $SVGEAR_MODELS is most likely the model meant: the
    // built-in one loads in its place, and the log says why that folder did not.
    const auto& not_models = model_picker_->notModels();
    if (!not_models.isEmpty() && model_picker_->defaultIsBuiltin()) {
      log_->warning(tr("%1 holds a Wan diffusion model but is no model, so the built-in %2 loads instead: %3")
                        .arg(not_models.front().first, QDir(f).dirName(), not_models.front().second));
    }
  });
  connect(model_picker_, &ModelPicker::devicesFound, this, [this] {
    if (loading_load_ == kLoadAwaitsDevices) loadModel(loading_folder_);
    updateRunActions();  // runs waited for the list too, also with no load waiting (Esc)
  });
  connect(model_picker_, &ModelPicker::scanned, this, [this] {
    if (!gone_at_start_.isEmpty()) loadDefaultInsteadOfGone();
    updateRunActions();
    if (model_picker_->currentFolder().isEmpty()) statusBar()->showMessage(tr("No models found: File ▸ Open model folder… (Ctrl+O)"));
  });
  connect(model_picker_, &ModelPicker::deviceChanged, this, [this] {
    // Any model loads again on the new device, also after a failed load. The picker is disabled
    // during runs, so this never reloads under one.
    const QString folder = model_picker_->currentFolder();
    if (!folder.isEmpty()) loadModel(folder);
  });
  connect(model_picker_, &ModelPicker::idleExpertChanged, this, [this] {
    const QString folder = model_picker_->currentFolder();
    if (idle_expert_matters_ && !folder.isEmpty() && loads_as_wan_folder(folder.toStdString())) loadModel(folder);
  });
  connect(model_picker_, &ModelPicker::placementChanged, this, [this] {
    // A Wan folder loads again with it, also after a failed load (perhaps for want of the memory this
    // frees); a built-in model has nothing to move. The picker is disabled during runs, so this never
    // reloads under one.
    const QString folder = model_picker_->currentFolder();
    if (folder.isEmpty() || !loads_as_wan_folder(folder.toStdString())) return;
    loadModel(folder);
  });
  connect(prompt_panel_, &PromptPanel::submitted, this, [this] { generate(); });
  // Removed means gone: not back from a failed run's snapshot, nor from the settings after a crash.
  connect(prompt_panel_, &PromptPanel::historyRemoved, this, [this](const QStringList& prompts) {
    for (const QString& prompt : prompts) history_before_run_.removeAll(prompt);
    QSettings settings;
    prompt_panel_->save(settings);
  });
  connect(routing_, &RoutingPanel::selectionChanged, this, [this] { inspectShownTrace(); });
  // One time for both: the cluster map shows the latent frame of the preview's frame, and a latent
  // frame chosen there moves the preview, while the traces are of the clip the preview shows.
  connect(preview_, &PreviewPane::frameShown, this, [this](int frame) {
    if (routing_matches_preview_) routing_->showVideoFrame(frame);
  });
  connect(routing_, &RoutingPanel::videoFrameChosen, this, [this](int frame) {
    if (routing_matches_preview_) preview_->showFrame(frame);
  });
  connect(library_, &LibraryPanel::entryOpened, this, [this](const std::filesystem::path& f) { openLibraryEntry(f); });
  connect(library_, &LibraryPanel::errorOccurred, this, [this](const QString& m) { reportError(m); });
  // Sizes the user typed are chosen: the first start's default model, found later, keeps them, and
  // so does the start after one closed before it was found (saved as settings/chosen).
  connect(settings_panel_, &SettingsPanel::sizesEdited, this, [this] { settings_chosen_ = true; });
  const auto say_note = [this](const QString& note) {
    log_->info(note);
    statusBar()->showMessage(note);
  };
  connect(settings_panel_, &SettingsPanel::noted, this, say_note);
  connect(routing_, &RoutingPanel::noted, this, say_note);
  connect(library_, &LibraryPanel::statusChanged, this, [this](const QString& m) { statusBar()->showMessage(m); });
  connect(sweep_view_, &SweepView::budgetChosen, this, [this](const QString& mode, double top_p) {
    // The settings are locked during a run; changing them behind the lock would surprise.
    if (generating_) {
      statusBar()->showMessage(tr("The settings are locked while a run is in progress: choose the budget after it"));
      return;
    }
    AttentionConfig attention = settings_panel_->attention();
    // The point was measured in the sweep's mode: the same top-p in another mode routes otherwise.
    attention.mode = parse_attention_mode(mode.toStdString());
    attention.top_p = top_p;
    settings_panel_->setAttention(attention);
    // The box may round the budget (it holds 3 decimals, from 0.01): say what the next run uses.
    const double held = settings_panel_->attention().top_p;
    statusBar()->showMessage(held == top_p ? tr("Budget set to top-p %1 (%2)").arg(top_p).arg(attention_mode_name(attention.mode))
                                           : tr("Budget set to top-p %1, the nearest the settings hold to the swept %2 (%3)")
                                                 .arg(held)
                                                 .arg(top_p)
                                                 .arg(attention_mode_name(attention.mode)));
  });
}

void MainWindow::buildActions() {
  // file
  QMenu* file = menuBar()->addMenu(tr("&File"));
  open_model_action_ = file->addAction(tr("&Open model folder…"), this, [this] { model_picker_->browse(); });
  open_model_action_->setObjectName("open_model");
  open_model_action_->setShortcut(QKeySequence::Open);
  export_video_action_ = file->addAction(tr("&Export video (MP4)…"), this, [this] { chooseExportVideo(); });
  export_video_action_->setObjectName("export_video");
  export_video_action_->setShortcut(Qt::CTRL | Qt::Key_E);
  export_frames_action_ = file->addAction(tr("Export &PNG frames…"), this, [this] { chooseExportFrames(); });
  export_frames_action_->setObjectName("export_frames");
  export_frames_action_->setShortcut(Qt::CTRL | Qt::SHIFT | Qt::Key_E);
  export_comparison_action_ = file->addAction(tr("Export &comparison video (MP4)…"), this, [this] {
    const QString name =
        QString("svgear-compare-%1.%2").arg(compare_view_->result().seed).arg(mp4_supported() ? "mp4" : "y4m");
    const QString path = chooseExportPath(tr("Export comparison video"), name, videoFilter());
    if (!path.isEmpty()) exportComparison(path);
  });
  export_comparison_action_->setObjectName("export_comparison");
  open_trace_action_ = file->addAction(tr("Open &routing trace (JSON)…"), this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open routing trace"), QString(), tr("JSON (*.json)"));
    if (!path.isEmpty()) openRoutingTrace(path);
  });
  open_trace_action_->setObjectName("open_trace");
  open_trace_action_->setToolTip(tr("Shows a trace written by `svgear generate --trace` or by Export routing trace "
                                    "in the Routing panel"));
  export_trace_action_ = file->addAction(tr("Export routing &trace (JSON)…"), this, [this] {
    // The steps the dialog names: a trace file read meanwhile replaces the panel's.
    std::vector<std::shared_ptr<const RoutingStep>> steps = routingToExport();
    const QString path = chooseExportPath(tr("Export routing trace"), QString("svgear-trace-%1.json").arg(routing_seed_),
                                          tr("JSON (*.json)"));
    if (!path.isEmpty()) exportSteps(std::move(steps), path);
  });
  export_trace_action_->setObjectName("export_trace");
  export_trace_action_->setToolTip(tr("Every step in the Routing panel: clusters, routed blocks, error estimates, timings"));
  export_comparison_action_->setToolTip(tr("The last Compare as one video: dense | sparse | difference"));
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, [this] { close(); });
  quit->setShortcut(QKeySequence::Quit);

  // generate
  QMenu* run = menuBar()->addMenu(tr("&Generate"));
  generate_action_ = run->addAction(tr("&Generate"), this, [this] { generate(); });
  generate_action_->setObjectName("generate");
  generate_action_->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
  generate_action_->setToolTip(tr("Generate a video from the prompt (Ctrl+Enter)"));
  compare_action_ = run->addAction(tr("&Compare"), this, [this] { compare(); });
  compare_action_->setObjectName("compare");
  compare_action_->setShortcuts(
      {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Enter)});
  compare_action_->setToolTip(
      tr("Run the request dense and sparse with the same seed and compare them (Ctrl+Shift+Enter); in dense mode "
         "the sparse run is SVG-EAR's, at the knobs shown"));
  sweep_action_ = run->addAction(tr("&Sweep budgets"), this, [this] { sweep(); });
  sweep_action_->setObjectName("sweep");
  sweep_action_->setShortcut(Qt::CTRL | Qt::SHIFT | Qt::Key_P);
  sweep_action_->setToolTip(tr("Run the prompt dense once and sparse at each budget of the Sweep panel, and plot "
                               "speed against PSNR (Ctrl+Shift+P); in dense mode the sparse runs are SVG-EAR's, at the "
                               "other knobs shown"));
  cancel_action_ = run->addAction(tr("C&ancel"), this, [this] {
    if (cancelDuringRunConfirmed()) cancel();
  });
  cancel_action_->setObjectName("cancel");
  cancel_action_->setShortcut(Qt::Key_Escape);
  cancel_action_->setToolTip(tr("Stop the current step at its next block (or the final decode after its frame) and keep the last estimate (Esc)"));
  run->addSeparator();
  clear_cache_action_ = run->addAction(tr("C&lear compare cache"), this, [this] {
    const QString question = tr("Remove %1 (%2)? The next Compare or sweep of each request runs dense again.")
                                 .arg(counted(cached_runs_, tr("cached dense run"), tr("cached dense runs")))
                                 .arg(data_size(cached_bytes_));
    // No by default: an Enter meant for the menu does not remove runs that took minutes to make.
    if (QMessageBox::question(this, tr("Clear compare cache"), question, QMessageBox::Yes | QMessageBox::No,
                              QMessageBox::No) == QMessageBox::Yes) {
      clearCompareCache();
    }
  });
  clear_cache_action_->setObjectName("clear_compare_cache");
  clear_cache_action_->setToolTip(tr("Remove the dense runs Compare and Sweep keep for reuse (the most recently "
                                     "used %1 GiB of them are kept)").arg(kDenseCacheBytes >> 30));
  // What the cache holds, listed on the thread pool when the menu opens (the cache may sit on a slow
  // disk); the open menu shows the count when it arrives.
  connect(run, &QMenu::aboutToShow, this, [this] {
    if (clearing_cache_) return;  // the item says "clearing…" until the clear ends
    cache_listed_ = false;
    clear_cache_action_->setText(tr("C&lear compare cache (counting…)"));
    updateClearCacheAction();
    listCompareCache();
  });

  // preview
  QMenu* preview = menuBar()->addMenu(tr("&Preview"));
  QAction* play = preview->addAction(tr("&Play / pause"), this, [this] {
    if (preview_->view()->frameCount() < 2) {  // it did nothing, without a word
      status_line_->showNotice(preview_->view()->frameCount() == 0
                                   ? tr("Nothing to play yet: generate a video or open one from the Library")
                                   : tr("The clip has one frame: nothing to play"));
      return;
    }
    preview_->togglePlaying();
  });
  play->setObjectName("play_pause");
  play->setShortcut(Qt::Key_Space);
  preview->addSeparator();
  preview->addActions(preview_->frameActions());
  // ...except where Space is the focused control's own key (a check box, a button, a list).
  qApp->installEventFilter(this);

  // view: show or hide each panel
  // In the docks' order on the screen, left to right and tab by tab, each with its access key (the
  // dock's title has none: it would show its "&").
  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->setObjectName("view_menu");
  noteDocksBehindTabs(view);
  for (const auto& [name, entry] : std::initializer_list<std::pair<const char*, QString>>{
           {"model_dock", tr("&Model")}, {"prompt_dock", tr("&Prompt")}, {"settings_dock", tr("&Settings")},
           {"log_dock", tr("&Log")}, {"routing_dock", tr("&Routing")}, {"compare_dock", tr("&Compare")},
           {"sweep_dock", tr("S&weep")}, {"library_dock", tr("L&ibrary")}}) {
    QDockWidget* dock = findChild<QDockWidget*>(name);
    dock->toggleViewAction()->setText(entry);
    view->addAction(dock->toggleViewAction());
    // A panel opened again comes to the front of its tabs: it came back behind the one in front.
    // And it takes the keyboard, as a click into it would, once the menu has given it back.
    connect(dock->toggleViewAction(), &QAction::triggered, dock, [this, dock](bool shown) {
      const bool behind = docks_behind_tabs_.contains(dock);
      if (!shown && behind) dock->show();
      if (shown || behind) {
        dock->raise();
        QTimer::singleShot(0, dock, [this, dock] { focusPanel(dock); });
      }
    });
  }

  // help: the keys (every menu's, read from the menus, and the panels' own) and the version
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->setObjectName("help_menu");
  QAction* keys = help->addAction(tr("&Keyboard shortcuts"), this, [this] {
    auto* dialog = new KeyboardShortcutsDialog(menuBar(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
  });
  keys->setObjectName("keyboard_shortcuts_action");
  keys->setShortcut(QKeySequence::HelpContents);
  QAction* about = help->addAction(tr("&About SVG-EAR Studio"), this, [this] {
    auto* box = new QMessageBox(QMessageBox::Information, tr("About SVG-EAR Studio"),
                                tr("SVG-EAR Studio %1 (%2, built with LibTorch %3 and Qt %4)")
                                    .arg(SVGEAR_VERSION, SVGEAR_BUILD_TYPE, SVGEAR_TORCH_VERSION, qVersion()),
                                QMessageBox::Close, this);
    box->setObjectName("about_box");
    box->setInformativeText(tr("Video generation with SVG-EAR sparse attention.\nSettings: %1\nLibrary: %2\n"
                               "The command line: svgear --help")
                                .arg(QSettings().fileName(), QFile::decodeName(library_->root().c_str())));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
  });
  about->setObjectName("about_action");

  auto* toolbar = addToolBar(tr("Generate"));
  toolbar->setObjectName("generate_toolbar");
  toolbar->setMovable(false);
  toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
  toolbar->addAction(generate_action_);
  toolbar->addAction(compare_action_);
  toolbar->addAction(sweep_action_);
  toolbar->addAction(cancel_action_);
  auto* generate_button = qobject_cast<QToolButton*>(toolbar->widgetForAction(generate_action_));
  generate_button->setObjectName("generate_button");
  generate_button->setStyleSheet(
      "QToolButton { background: #0a6fb8; color: white; padding: 4px 18px; border-radius: 3px; font-weight: bold; }"
      "QToolButton:disabled { background: #3a3a3c; color: #808080; }");
  toolbar->widgetForAction(cancel_action_)->setObjectName("cancel_button");
  toolbar->widgetForAction(compare_action_)->setObjectName("compare_button");
  toolbar->widgetForAction(sweep_action_)->setObjectName("sweep_button");
}

void MainWindow::connectWorker() {
  connect(worker_, &GenerationWorker::modelLoaded, this, [this](const ModelSummary& m) { onModelLoaded(m); });
  connect(worker_, &GenerationWorker::modelLoadCancelled, this, [this](const QString&, int load) {
    if (load == loading_load_) onModelLoadCancelled();
  });
  connect(worker_, &GenerationWorker::modelFailed, this, [this](const QString& folder, const QString& message, int load,
                                                                const ModelSummary& kept) {
    // A load the user has since replaced by another choice, of this folder or another (onModelLoaded
    // filters the same way): the newer load is the one to wait for and to report.
    const bool awaited = load == loading_load_;
    if (awaited) setLoading(QString(), 0);
    if (kept.folder.isEmpty()) loaded_folder_.clear();
    const bool reload = folder == reload_folder_;  // a Library run's model
    if (reload) reload_folder_.clear();  // a later load of it is no reload's
    if (!awaited || folder != model_picker_->currentFolder()) {
      log_->info(tr("loading %1 failed, but a newer choice has replaced it: %2").arg(folder, message));
      return;
    }
    // Refused on its files' headers: the model before stays loaded, and the panels describe it again
    // (they had said "no model", and Generate failed, for a folder chosen by mistake).
    if (!kept.folder.isEmpty()) {
      start_folder_.clear();
      apply_model_defaults_ = false;
      model_picker_->setCurrentFolder(kept.folder);
      showModel(kept);
      model_picker_->showRefused(message);
      // The model's name first: the status line cuts a long message short. A Library run's settings
      // were applied for its own model, which Generate would not run.
      const QString stays = reload ? tr("%1 stays loaded, so Generate would not reproduce the run reloaded from the "
                                        "Library: %2")
                                   : tr("%1 stays loaded: %2");
      if (load != 0) reportError(stays.arg(kept.name, message));  // else the run's failure says it
      return;
    }
    // The last session's model, moved or renamed since (or on a disk not mounted now): the default
    // loads in its place, so that the studio starts ready, where it had started with no model. Only
    // the start's own load: not a run's (0), nor one under a run.
    std::error_code unreadable;  // a folder this user may no longer read is as gone
    if (folder == start_folder_ && load != 0 && !generating_ &&
        !std::filesystem::is_directory(folder.toStdString(), unreadable)) {
      start_folder_.clear();
      log_->warning(tr("The last model folder, %1, is not there any more (moved, renamed, deleted or not mounted): "
                       "the default model loads instead. The folder stays in the Model list, marked gone.")
                        .arg(folder));
      gone_at_start_ = folder;
      if (model_picker_->isScanning()) {
        model_picker_->showError(tr("%1 is gone: the default model loads once the search for models ends").arg(folder));
        statusBar()->showMessage(tr("Looking for models…"));
      } else {
        loadDefaultInsteadOfGone();
      }
      return;
    }
    start_folder_.clear();
    // apply_model_defaults_ stays: a retry of this folder (a new placement) still wants them.
    idle_expert_matters_ = true;
    model_picker_->showError(message);
    prompt_panel_->setVocabulary({});
    prompt_panel_->setExamples({});
    if (load != 0) reportError(message);  // a run's own load (0): the run's failure reports it
  });
  connect(worker_, &GenerationWorker::loadProgress, this,
          [this](int load, const QString& part, qint64 done, qint64 total) {
            if (load != loading_load_) return;  // one a newer choice replaced
            const int percent = total > 0 ? int(100 * done / total) : 100;
            load_progress_ = tr("%1 %2% of %3").arg(part).arg(percent).arg(data_size(uintmax_t(total)));
            // A run's own load (0) has no loading_folder_: the run's model is the current choice.
            const QString folder = load != 0 ? loading_folder_ : model_picker_->currentFolder();
            model_picker_->showLoadProgress(folder, load_progress_);
            if (generating_) {
              showStepLine();
            } else {
              statusBar()->showMessage(tr("Loading the %1 (Esc cancels) · %2").arg(load_progress_, folder));
            }
          });
  connect(worker_, &GenerationWorker::phaseChanged, this, [this](RunPhase phase) {
    load_progress_.clear();  // a run's own load is over
    run_phase_ = phase;
    if (generating_) showStepLine();
  });
  connect(worker_, &GenerationWorker::stepDone, this, [this](const StepEvent& e) { onStep(e); });
  connect(worker_, &GenerationWorker::previewReady, this, [this](int step, const SharedVideo& v) { onPreview(step, v); });
  connect(worker_, &GenerationWorker::routingReady, this,
          [this](const std::shared_ptr<RoutingStep>& r) {
            takeRoutingForThisRun(nullptr);
            routing_->addStep(r);
            updateRoutingTitle();
          });
  connect(worker_, &GenerationWorker::finished, this, [this](const SharedVideo& v, double ms) { onFinished(v, ms); });
  connect(worker_, &GenerationWorker::cancelled, this, [this](const SharedVideo& v, int done) { onCancelled(v, done); });
  connect(worker_, &GenerationWorker::failed, this, [this](const QString& message) { onFailed(message); });
  connect(worker_, &GenerationWorker::compareRunStarted, this,
          [this](const QString& run, int index) { onCompareRunStarted(run, index); });
  connect(worker_, &GenerationWorker::denseRunCached, this, [this](bool cached) { compare_dense_cached_ = cached; });
  connect(worker_, &GenerationWorker::compareFinished, this,
          [this](const CompareResult& result) { onCompareFinished(result); });
  connect(worker_, &GenerationWorker::sweepRunStarted, this,
          [this](double top_p, int index, int total) { onSweepRunStarted(top_p, index, total); });
  connect(worker_, &GenerationWorker::sweepPoint, this, [this](const SweepPoint& p) {
    sweep_view_->addPoint(p);
    {
      // Kept as it arrives, as the last Compare is: a crash had brought back the sweep before it.
      QSettings settings;
      sweep_view_->save(settings);
    }
    log_->info(tr("sweep: top-p %1 · PSNR %2 · SSIM %3 · %4 ms/step · %5")
                   .arg(p.top_p)
                   .arg(QString::fromStdString(format_psnr_db(p.mean_psnr_db)))
                   .arg(p.mean_ssim, 0, 'f', 4)
                   .arg(p.step_ms, 0, 'f', 1)
                   .arg(relative_speed_text(p.speedup())));
  });
  connect(worker_, &GenerationWorker::sweepFinished, this,
          [this](const QString& mode, bool reused) { onSweepFinished(mode, reused); });
  connect(worker_, &GenerationWorker::logLine, log_, [this](const QString& line) {
    // A Compare's or sweep's runs share their request: a note before each run's steps (sparse
    // attention on the CPU) came once per budget. Lines within the steps (an expert's move and its
    // time) are each run's own.
    if (generating_ && work_ != Work::Generate && !last_step_) {
      if (run_said_.contains(line)) return;
      run_said_.insert(line);
    }
    log_->info(line);
  });
  connect(worker_, &GenerationWorker::warning, this, [this](const QString& line) {
    if (run_said_.contains(line)) return;  // a Compare's or sweep's runs share their prompt
    run_said_.insert(line);
    log_->warning(line);
    // A closed Log stays closed (a sparse run on the CPU warns every time), but is named.
    const bool log_open = findChild<QDockWidget*>("log_dock")->toggleViewAction()->isChecked();
    statusBar()->showMessage(tr("Warning: %1 (%2)")  // until the run's next message
                                 .arg(line, log_open ? tr("see the log") : tr("in the Log: View ▸ Log")));
  });
  connect(worker_, &GenerationWorker::librarySaved, this, [this](const LibraryEntry& entry) {
    library_->insert(entry);
    log_->info(tr("kept in the library: %1").arg(QString::fromStdString(entry.folder.string())));
  });
}

void MainWindow::openModelFolder(const QString& folder) {
  supersedeLibraryOpen();  // the model chosen now wins over a library reload still decoding
  start_folder_.clear();   // a folder chosen that is gone says so
  gone_at_start_.clear();  // nor does the default replace a choice
  model_picker_->setCurrentFolder(folder);
  // A stray click on the loaded model's own entry: a Wan model's load takes minutes.
  if (folder == loaded_folder_ && loading_folder_.isEmpty()) {
    status_line_->showNotice(tr("%1 is loaded already").arg(QDir(folder).dirName()));
    return;
  }
  apply_model_defaults_ = folder != fitted_folder_;
  loadModel(folder);
}

void MainWindow::loadModel(const QString& folder) {
  // The worker frees the old model first, unless it refuses the folder on its headers (then the
  // model it keeps is shown again): the dock and completion must not go on describing it.
  model_picker_->showLoading(folder);
  loaded_folder_.clear();
  routing_->fitToModel(0, 0);  // a run checks its traced layers against the model it loads
  prompt_panel_->setVocabulary({});
  prompt_panel_->setExamples({});
  if (!generating_) statusBar()->showMessage(tr("Loading the model in %1… (Esc cancels)").arg(folder));
  idle_expert_matters_ = true;  // until the model says otherwise: a pair may be loading
  // Before the device list arrives the placement may name a GPU this machine lacks (a saved
  // choice): the load waits for the list (devicesFound), which reads that as Automatic.
  setLoading(folder, model_picker_->deviceKnown() ? worker_->loadModel(folder, model_picker_->placement())
                                                  : kLoadAwaitsDevices);
}

// The settings were the gone model's: the default model's own apply, as at a first start. Unless the
// user has chosen since (another folder, a library run, a run) while the search went on.
void MainWindow::loadDefaultInsteadOfGone() {
  const QString gone = std::exchange(gone_at_start_, QString());
  if (generating_ || model_picker_->currentFolder() != gone || !loading_folder_.isEmpty()) return;
  const QString folder = model_picker_->defaultFolder();
  if (folder.isEmpty()) {
    model_picker_->showError(tr("the last model folder is gone and no other model was found: Browse… for one"));
    return;
  }
  settings_chosen_ = false;
  apply_model_defaults_ = true;
  model_picker_->setCurrentFolder(folder);
  loadModel(folder);
}

void MainWindow::onModelLoadCancelled() {
  setLoading(QString(), 0);
  loaded_folder_.clear();
  start_folder_.clear();  // a later failure of its folder is no start's
  reload_folder_.clear();  // a later load of its folder is no reload's
  idle_expert_matters_ = true;
  // The worker holds no model of this folder now: a run loads it first, as a choice of it does.
  model_picker_->showError(tr("loading cancelled; Generate or choosing the model again loads it"));
  if (!generating_) statusBar()->showMessage(tr("Model load cancelled"));
}

void MainWindow::openLibraryEntry(const std::filesystem::path& folder) {
  if (generating_) {  // a double-click: Open is disabled meanwhile. A notice, not an error.
    status_line_->showNotice(tr("A run is in progress: open a kept run once it finishes or is cancelled"));
    return;
  }
  // Everything is read on the thread pool (the record, then the video: a Wan clip takes ~0.3 s);
  // the panels change only once it has, so a damaged entry changes nothing. A later reload, a run,
  // a model choice or closing the window supersedes this one (supersedeLibraryOpen).
  supersedeLibraryOpen();
  auto token = std::make_shared<CancelToken>();
  library_open_ = token;
  statusBar()->showMessage(tr("Opening %1…").arg(QString::fromStdString(folder.filename().string())));
  auto* watcher = new QFutureWatcher<OpenedEntry>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, token, folder] {
    watcher->deleteLater();
    if (token != library_open_) return;
    library_open_.reset();
    OpenedEntry opened = watcher->future().takeResult();
    if (!opened.error.empty()) {
      // The reason first: the errors name the files by their whole paths, which had filled the
      // status line twice over before it. Their folder is said once, at the end.
      const QString path = QString::fromStdString(folder.string());
      QString why = QString::fromStdString(opened.error);
      why.replace(path + '/', QString());
      // The folder itself where a message names it whole ("… is not a library entry"), not a longer sibling's name.
      if (why.startsWith(path + ' ')) why.replace(0, path.size(), tr("the run's folder"));
      reportError(tr("cannot reload run %1: %2 (in %3)")
                      .arg(QString::fromStdString(folder.filename().string()), why,
                           QString::fromStdString(folder.parent_path().string())));
      return;
    }
    // Its record edited, or found without its clip now (deleted outside the studio since the
    // listing): its row says so.
    library_->updateRecord(opened.entry);
    if (opened.entry.clip_gone() && !opened.clip_unreadable) library_->markClipGone(folder);
    applyLibraryEntry(opened.entry, opened.request, opened.model_present, opened.model_is_current,
                      std::move(opened.video), opened.clip_unreadable);
    if (!opened.fallback_note.empty()) {
      log_->warning(QString::fromStdString(opened.fallback_note));
      const QString why = opened.clip_unreadable ? tr(" · why, in the Log")
                                                 : tr(" · shown from its lossier video (see the Log)");
      reload_status_ += why;  // also said once the run's model, loading now, is ready
      statusBar()->showMessage(statusBar()->currentMessage() + why);
    }
  });
  const std::filesystem::path current_model = model_picker_->currentFolder().toStdString();
  watcher->setFuture(QtConcurrent::run([folder, token, current_model] {
    OpenedEntry opened;
    try {
      opened.entry = read_library_entry(folder);
      opened.request = studio_request_from_record(opened.entry.record);
      std::error_code ec;  // a folder this user may not read is as gone as a missing one
      opened.model_present = std::filesystem::is_directory(opened.request.model_folder, ec);
      opened.model_is_current = opened.model_present && !current_model.empty() &&
                                std::filesystem::equivalent(opened.request.model_folder, current_model, ec);
      // A run whose video and frames were deleted by hand still reloads its settings, and so does
      // one whose frames and video are there but cannot be read (why, in the Log).
      if (!opened.entry.clip_gone()) {
        try {
          opened.video = read_library_video(opened.entry, token.get(), decoded_video_budget(), &opened.fallback_note);
        } catch (const MediaError& e) {
          opened.fallback_note = e.what();
          opened.entry.exact_frames.clear();  // as good as gone
          opened.entry.video.clear();
          opened.clip_unreadable = true;
        }
      }
    } catch (const std::exception& e) {
      opened.error = e.what();
    } catch (...) {
      opened.error = "unknown error";
    }
    return opened;
  }));
}

void MainWindow::applyLibraryEntry(const LibraryEntry& entry, const StudioRequest& request, bool model_present,
                                   bool model_is_current, Video video, bool clip_unreadable) {
  const QString model = QString::fromStdString(request.model_folder.string());
  // Also by its text: a model chosen while the open ran (the first start's default) is that one.
  const bool another_model = !model.isEmpty() && !model_is_current && model != model_picker_->currentFolder();
  const bool model_gone = another_model && !model_present;
  if (another_model) {
    if (model_present) {
      model_picker_->setCurrentFolder(model);
      loadModel(model);
    } else {
      log_->info(tr("the entry's model folder %1 is gone; the current model stays").arg(model));
    }
  }
  // The entry's settings win over the model's defaults, also those of a load still in flight (a
  // folder chosen just before, whose defaults would land on these when it finishes) and of the
  // first start's default model, found later.
  apply_model_defaults_ = false;
  settings_chosen_ = true;
  const QStringList unheld = settings_panel_->setRequest(request);
  prompt_panel_->setPrompt(QString::fromStdString(request.prompt));
  prompt_panel_->setNegativePrompt(QString::fromStdString(request.negative_prompt));
  const QString name = QString::fromStdString(entry.folder.filename().string());
  // The Routing panel's traces are an earlier run's: not this clip's tokens.
  setRoutingMatchesPreview(false);
  if (entry.clip_gone()) {
    // No earlier clip stays on show as if it were this run's.
    result_.reset();
    preview_->clear((clip_unreadable ? tr("The video of %1 could not be shown from its files (the Log says why).\n")
                                     : tr("The video of %1 is gone: its folder holds only its record.\n"))
                            .arg(name) +
                    tr("Its prompt and settings are reloaded; Generate makes it again."));
  } else {
    result_ = std::make_shared<const Video>(std::move(video));
    result_seed_ = request.seed;
    result_partial_ = false;  // the library keeps finished runs only
    // As a finished run's caption reads, with when it was made in local time (the record's is UTC).
    preview_->showClip(result_,
                       tr("library · seed %1 · %2").arg(qulonglong(request.seed)).arg(local_time_text(entry.created)),
                       PreviewPane::Clip::Another);
  }
  updateExportActions();
  // A run made elsewhere (the CLI takes any seed, finer budgets, more clusters) may not fit the
  // boxes, and a run whose model folder is gone would run on another model: say so rather than
  // promise a reproduction.
  QStringList why_not;
  if (model_gone) {
    why_not << tr("its model folder %1 is gone (%2 stays loaded)").arg(model, model_picker_->currentFolder());
  }
  if (!unheld.isEmpty()) why_not << tr("the settings cannot hold %1").arg(unheld.join(", "));
  QString reloaded;
  if (why_not.isEmpty()) {
    reloaded = entry.clip_gone()
                   ? tr("Reloaded the settings of %1 (seed %2, locked); %3: Generate makes it again")
                         .arg(name)
                         .arg(qulonglong(request.seed))
                         .arg(clip_unreadable ? tr("its clip could not be shown") : tr("its video is gone"))
                   : tr("Reloaded %1 (seed %2, locked): Generate reproduces it")
                         .arg(name)
                         .arg(qulonglong(request.seed));
  } else {
    const QString what = why_not.join("; ");
    reloaded = tr("Reloaded %1, but %2: Generate will not reproduce it").arg(name, what);
    log_->info(tr("reloaded %1: %2").arg(name, what));
  }
  statusBar()->showMessage(reloaded);
  reload_folder_ = another_model && model_present ? model : QString();
  reload_status_ = reloaded;
}

const Video& MainWindow::result() const {
  static const Video none;
  return result_ ? *result_ : none;
}

bool MainWindow::requestFromPanels(SeedChoice seed, StudioRequest& request) {
  settings_panel_->commitTypedValues();
  const QString prompt = prompt_panel_->prompt().simplified();
  if (prompt.isEmpty()) {
    reportError(tr("type a prompt first"));
    prompt_panel_->focusPrompt();
    return false;
  }
  std::vector<int> trace_layers, trace_heads;
  try {
    if (routing_->recording() != RoutingRecording::Off) {  // kept from another model, they stop nothing untraced
      trace_layers = routing_->tracedLayers();
      trace_heads = routing_->tracedHeads();
    }
  } catch (const UserError& e) {
    reportError(tr("traced layers and heads: %1").arg(QString::fromUtf8(e.what())));
    return false;
  }
  // What a run that fails before its first step gives back (onFailed): it generated nothing.
  history_before_run_ = prompt_panel_->history();
  seed_before_run_ = settings_panel_->seed();
  if (seed == SeedChoice::NewUnlessLocked) settings_panel_->rollSeedUnlessLocked();
  request = settings_panel_->request();
  request.model_folder = model_picker_->currentFolder().toStdString();
  request.placement = model_picker_->placement();
  request.prompt = prompt.toStdString();
  request.negative_prompt = prompt_panel_->negativePrompt().simplified().toStdString();
  request.routing = routing_->recording();
  request.trace_layers = std::move(trace_layers);
  request.trace_heads = std::move(trace_heads);
  prompt_panel_->addToHistory(prompt);
  return true;
}

void MainWindow::generate() {
  if (!runsAllowedOrSay()) return;
  StudioRequest request;
  if (!requestFromPanels(SeedChoice::NewUnlessLocked, request)) return;
  log_->info(tr("generate %1: %2, %3 attention")
                 .arg(logged_prompt(request.prompt), run_summary(request),
                      QString(attention_mode_name(request.attention.mode))));
  routing_clear_pending_ = true;
  routing_notes_ = routing_notes(request);
  beginRun(request, Work::Generate, tr("Generating…"));
  // An empty preview had gone on saying how to start a run through a first step of minutes.
  if (preview_->view()->frameCount() == 0) {
    preview_->clear(tr("Generating: the first frames show once step 1 has run (Esc cancels)."));
  }
  worker_->start(request);
}

void MainWindow::beginRun(const StudioRequest& request, Work work, const QString& status) {
  stopTraceOpening();  // the panel is this run's
  requested_steps_ = request.steps;
  requested_seed_ = request.seed;
  setProgressSteps(request.steps);
  progress_->setValue(0);
  progress_->setTextVisible(true);
  run_label_.clear();
  run_estimate_shown_ = false;
  run_stepped_ = false;
  run_cancel_asked_ = false;
  last_step_.reset();
  run_phase_.reset();
  run_started_.start();
  work_started_.start();
  step_clock_->start();
  step_label_->setText(tr("starting…"));
  statusBar()->showMessage(status);
  setGenerating(true);
  work_ = work;
  compare_run_ = -1;
  compare_dense_cached_ = false;
  run_said_.clear();
  supersedeLibraryOpen();  // a library reload still decoding must not replace this run's result
  // The prompt history and settings so far, whatever becomes of this run or the window; a save that
  // fails is said once, not at every run.
  const QString unsaved = saveSettings();
  if (!unsaved.isEmpty() && unsaved != settings_unsaved_said_) log_->warning(unsaved);
  settings_unsaved_said_ = unsaved;
}

void MainWindow::supersedeLibraryOpen() {
  if (!library_open_) return;
  library_open_->cancel();
  library_open_.reset();
}

void MainWindow::compare() {
  if (!runsAllowedOrSay()) return;
  if (!cachedRunsAllowed()) {
    statusBar()->showMessage(tr("The compare cache is being cleared: Compare once it is done"));
    return;
  }
  StudioRequest request;
  if (!requestFromPanels(SeedChoice::AsShown, request)) return;
  log_->info(tr("compare %1: dense against %2, %3")
                 .arg(logged_prompt(request.prompt), compared_mode_text(request), run_summary(request)));
  compare_view_->showRunning(tr("Comparing: starting…"));
  compared_this_session_ = true;
  beginRun(request, Work::Compare, tr("Comparing…"));
  worker_->compare(request, dense_run_cache_folder(), last_compare_folder());
}

void MainWindow::sweep() {
  if (!runsAllowedOrSay()) return;
  if (!cachedRunsAllowed()) {
    statusBar()->showMessage(tr("The compare cache is being cleared: sweep once it is done"));
    return;
  }
  std::vector<double> budgets;  // before the request, which enters the prompt in the history
  try {
    budgets = sweep_view_->budgets();
  } catch (const std::exception& e) {
    reportError(QString::fromUtf8(e.what()));
    showDock("sweep_dock");  // where the list is: it had kept the last sweep's summary
    sweep_view_->refuseBudgets(QString::fromUtf8(e.what()));
    return;
  }
  StudioRequest request;
  if (!requestFromPanels(SeedChoice::AsShown, request)) return;
  log_->info(tr("sweep %1: dense against %2 at %3, %4")
                 .arg(logged_prompt(request.prompt), compared_mode_text(request),
                      counted(qsizetype(budgets.size()), tr("budget"), tr("budgets")), run_summary(request)));
  if (request.steps == 1) {
    log_->info(tr("one step: each speedup is that step's, one-time costs included (a sparse run's first k-means); "
                  "a sweep of more steps times the steps after the first"));
  }
  sweep_view_->start(tr("Sweep: starting…"),
                     tr("\"%1\", %2").arg(QString::fromStdString(request.prompt), run_summary(request)));
  showDock("sweep_dock");
  beginRun(request, Work::Sweep, tr("Sweeping…"));
  worker_->sweep(request, dense_run_cache_folder(), budgets);
}

void MainWindow::cancel() {
  if (loading_load_ == kLoadAwaitsDevices) {  // not queued on the worker yet
    onModelLoadCancelled();
    return;
  }
  if (!generating_ && !loading_folder_.isEmpty()) {
    worker_->cancel();  // between tensors: a Wan model's load takes minutes
    statusBar()->showMessage(tr("Cancelling the model load…"));
    return;
  }
  if (!generating_) return;
  worker_->cancel();
  run_cancel_asked_ = true;
  statusBar()->showMessage(tr("Cancelling at the current step's next block (or decode frame)…"));
}

void MainWindow::setLoading(const QString& folder, int load) {
  loading_folder_ = folder;
  loading_load_ = load;
  load_progress_.clear();
  updateRunActions();
}

// Runs wait for a model load to report: one started meanwhile would run with the settings of the
// model before (its defaults are not in yet) or, after a failed load, load the folder again.
// Without a folder (a start with none saved, while the scan that chooses the default runs, or when
// it found none) a run would only fail, and so would one before the device list on a saved GPU this
// machine lacks (after Esc stopped the load that waited for the list).
bool MainWindow::runsAllowed() const {
  return !generating_ && loading_folder_.isEmpty() && !model_picker_->currentFolder().isEmpty() &&
         model_picker_->deviceKnown();
}

void MainWindow::setProgressSteps(int steps) {
  progress_->setRange(0, steps);
  progress_->setFormat(steps == 1 ? tr("%v / %m step") : tr("%v / %m steps"));
}

// Said when a run is refused: Return or Ctrl+Enter in the prompt while Generate is off (just after
// Esc, the cancelled run still ending) did nothing without a word.
QString MainWindow::whyNoRun() const {
  if (generating_) return tr("A run is in progress or still ending after Esc: start the next once it has ended");
  if (!loading_folder_.isEmpty()) return tr("The model is loading: start once it is loaded (Esc cancels the load)");
  if (model_picker_->currentFolder().isEmpty()) {
    return model_picker_->isScanning() ? tr("Looking for models…") : tr("No models found: File ▸ Open model folder… (Ctrl+O)");
  }
  if (!model_picker_->deviceKnown()) return tr("Listing this machine's devices: start once the list is in");
  return tr("The compare cache is being cleared: start once it is");
}

bool MainWindow::sayWhyNoExport(const QKeySequence& pressed) {
  for (const QAction* action : {export_video_action_, export_frames_action_}) {
    if (action->isEnabled() || !action->shortcuts().contains(pressed)) continue;
    // Not "waits": nothing is queued, the key does nothing now. A Compare's or sweep's runs show no
    // previews, so only a Generate's preview changes.
    const QString why =
        !generating_             ? tr("Nothing to export yet: generate a clip, or open one from the Library")
        : work_ == Work::Generate ? tr("Export is off while the run goes on (the preview changes until it ends): "
                                       "press it again once the run has ended")
                                  : tr("Export is off while the run goes on: press it again once the run has ended");
    status_line_->showNotice(why);
    return true;
  }
  return false;
}

bool MainWindow::runsAllowedOrSay() {
  if (runsAllowed()) return true;
  status_line_->showNotice(whyNoRun());
  return false;
}

// Compare and Sweep read and write the dense-run cache, so they also wait for its clearing.
bool MainWindow::cachedRunsAllowed() const { return runsAllowed() && !clearing_cache_; }

void MainWindow::updateRunActions() {
  generate_action_->setEnabled(runsAllowed());
  compare_action_->setEnabled(cachedRunsAllowed());
  sweep_action_->setEnabled(cachedRunsAllowed());
  cancel_action_->setEnabled(generating_ || !loading_folder_.isEmpty());
}

void MainWindow::listCompareCache() {
  if (listing_cache_) {  // one listing at a time (each holds a thread of the pool): one more follows it
    list_cache_again_ = true;
    return;
  }
  listing_cache_ = true;
  const int listing = ++cache_listing_;
  auto* watcher = new QFutureWatcher<std::optional<DenseCacheUsage>>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, listing] {
    watcher->deleteLater();
    listing_cache_ = false;
    if (listing == cache_listing_) {  // else a clear has begun since: this describes the cache before
      const std::optional<DenseCacheUsage> usage = watcher->future().takeResult();
      if (usage) {
        showCacheUsage(*usage);
      } else {
        clear_cache_action_->setText(tr("C&lear compare cache (cannot be listed)"));
      }
    }
    const bool again = list_cache_again_ && !clearing_cache_;
    list_cache_again_ = false;
    if (again) listCompareCache();
  });
  watcher->setFuture(QtConcurrent::run([root = dense_run_cache_folder().toStdString()]() -> std::optional<DenseCacheUsage> {
    try {
      return dense_cache_usage(root);
    } catch (const std::exception&) {  // thrown out of the task, it would end the studio
      return std::nullopt;
    }
  }));
}

void MainWindow::showCacheUsage(const DenseCacheUsage& usage) {
  cached_runs_ = usage.runs;
  cached_bytes_ = usage.bytes;
  cache_listed_ = true;
  clear_cache_action_->setText(usage.runs == 0 ? tr("C&lear compare cache (empty)")
                                               : tr("C&lear compare cache (%1, %2)…")
                                                     .arg(counted(usage.runs, tr("dense run"), tr("dense runs")))
                                                     .arg(data_size(usage.bytes)));
  updateClearCacheAction();
}

void MainWindow::updateClearCacheAction() {
  clear_cache_action_->setEnabled(!generating_ && !clearing_cache_ && cache_listed_ && cached_runs_ > 0);
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event) {
  // The Model panel's rows changed (a longer summary): event() fits it once the window has them.
  if (watched == model_picker_ && event->type() == QEvent::LayoutRequest) model_panel_changed_ = true;
  // Judged once both panels have their new sizes: a drag between the two keeps their sum, and
  // fitting then would undo the artist's own drag.
  if (event->type() == QEvent::Resize && !model_fit_queued_ && watched->parent() == this &&
      qobject_cast<QDockWidget*>(watched) &&
      (watched->objectName() == QLatin1String("model_dock") || watched->objectName() == QLatin1String("prompt_dock"))) {
    model_fit_queued_ = true;
    QMetaObject::invokeMethod(this, &MainWindow::fitModelPanelIfColumnChanged, Qt::QueuedConnection);
  }
  // A shortcut fires unless the focused widget accepts its ShortcutOverride, which a line edit does
  // for Space but buttons, check boxes, combo boxes and item views do not: Space would play the
  // preview instead of pressing or ticking them.
  if (event->type() == QEvent::ShortcutOverride) {
    const auto* key = static_cast<QKeyEvent*>(event);
    // Esc with a popup open (a combo box's list, the prompt's word completions) closes the popup:
    // Cancel's shortcut had fired as well and stopped the run.
    if (key->key() == Qt::Key_Escape && QApplication::activePopupWidget()) {
      event->accept();
      return false;
    }
    if (key->key() == Qt::Key_Space && key->modifiers() == Qt::NoModifier &&
        (qobject_cast<QAbstractButton*>(watched) || qobject_cast<QComboBox*>(watched) ||
         qobject_cast<QAbstractItemView*>(watched))) {
      event->accept();
    }
    // The other way round: a line edit takes Ctrl+E on X11 (end of line, as Emacs), which would
    // swallow Export video wherever the artist types, in the prompt above all, and in a spin box,
    // which hands the event to its own line edit past this filter.
    if ((qobject_cast<QLineEdit*>(watched) || qobject_cast<QAbstractSpinBox*>(watched)) &&
        QKeySequence(key->keyCombination()) == export_video_action_->shortcut()) {
      event->ignore();
      return true;
    }
  }
  // With the exports off, their keys reach a text box as plain keys (Ctrl+E: end of line): said.
  if (event->type() == QEvent::KeyPress &&
      (qobject_cast<QLineEdit*>(watched) || qobject_cast<QAbstractSpinBox*>(watched))) {
    const auto* key = static_cast<QKeyEvent*>(event);
    if (sayWhyNoExport(QKeySequence(key->keyCombination()))) return true;
  }
  return QMainWindow::eventFilter(watched, event);
}

bool MainWindow::clearCompareCache() {
  if (generating_) {
    statusBar()->showMessage(tr("The compare cache is in use by the running work: clear it when the run ends"));
    return false;
  }
  if (clearing_cache_) {
    statusBar()->showMessage(tr("The compare cache is being cleared already"));
    return false;
  }
  clearing_cache_ = true;
  ++cache_listing_;  // a listing still under way describes the cache before
  cache_listed_ = false;
  clear_cache_action_->setText(tr("C&lear compare cache (clearing…)"));
  updateClearCacheAction();
  updateRunActions();
  statusBar()->showMessage(tr("Clearing the compare cache…"));
  struct Cleared {
    DenseCacheUsage usage;
    QString error;
  };
  auto* watcher = new QFutureWatcher<Cleared>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
    watcher->deleteLater();
    const Cleared cleared = watcher->future().takeResult();
    clearing_cache_ = false;
    updateRunActions();
    if (!cleared.error.isEmpty()) {
      clear_cache_action_->setText(tr("C&lear compare cache"));  // counted again when the menu opens
      updateClearCacheAction();
      reportError(cleared.error);
      return;
    }
    showCacheUsage(DenseCacheUsage{});
    const QString done =
        tr("Removed %1 (%2)")
            .arg(counted(cleared.usage.runs, tr("cached dense run"), tr("cached dense runs")))
            .arg(data_size(cleared.usage.bytes));
    log_->info(done);
    statusBar()->showMessage(done);
  });
  // The task holds no pointer to the window: a window closed before it ends is not touched.
  watcher->setFuture(QtConcurrent::run([root = dense_run_cache_folder().toStdString()] {
    Cleared cleared;
    try {
      cleared.usage = clear_dense_cache(root);
    } catch (const std::exception& e) {
      cleared.error = QString::fromStdString(e.what());
    }
    return cleared;
  }));
  return true;
}

void MainWindow::setGenerating(bool generating) {
  generating_ = generating;
  // The panels locked during a run take the keyboard focus from a box in them (Qt clears it): the
  // box that had it gets it back after the run, unless the user has put it somewhere since.
  if (generating) focus_before_run_ = focusWidget();
  if (!generating) {
    step_clock_->stop();  // the line keeps the run's last timings, or is cleared
    // A Generate whose clip cleared the panel and that sent no routing: ended before its first sparse
    // step, or every traced layer ran dense.
    const int stepped = last_step_ ? last_step_->step + 1 : 0;
    if (work_ == Work::Generate && !routing_clear_pending_ && !routing_notes_.missed.isEmpty()) {
      routing_->showNoStepsNote(stepped < routing_notes_.first_sparse_step ? routing_notes_.missed
                                                                           : no_sparse_traced_layer_note());
    }
    routing_notes_ = {};
    work_ = Work::Generate;
    routing_clear_pending_ = false;
  }
  updateRunActions();
  updateClearCacheAction();
  model_picker_->setEnabled(!generating);
  open_model_action_->setEnabled(!generating);  // the picker's own shortcut: the model stays during a run
  settings_panel_->setEnabled(!generating);
  sweep_view_->setBudgetsEnabled(!generating);
  routing_->setRecordOptionsEnabled(!generating);
  library_->setOpenAllowed(!generating);
  updateExportActions();
  if (!generating && !focusWidget() && focus_before_run_ && focus_before_run_->isEnabled() &&
      focus_before_run_->isVisible()) {
    focus_before_run_->setFocus(Qt::OtherFocusReason);
  }
}

void MainWindow::updateExportActions() {
  export_video_action_->setEnabled(!generating_ && result_);
  export_frames_action_->setEnabled(!generating_ && result_);
  export_comparison_action_->setEnabled(!generating_ && compare_view_->hasResult());
  export_trace_action_->setEnabled(!generating_ && !routing_->steps().empty());
  open_trace_action_->setEnabled(!generating_);
}

void MainWindow::reportError(const QString& message) {
  log_->error(message);
  // An error sends the artist to the Log: one they had closed opens.
  QAction* log_shown = findChild<QDockWidget*>("log_dock")->toggleViewAction();
  if (!log_shown->isChecked()) log_shown->trigger();
  // The status bar gets the first sentence and its tooltip the whole message; the log holds it too
  // (vocabularies are long).
  status_line_->showDetailed(tr("Error: %1").arg(brief_error(message)), message);
}

void MainWindow::onModelLoaded(const ModelSummary& model) {
  // A load queued before the user chose again (another folder: the restored one at start-up; or
  // this folder with another device or placement) finishes first: its vocabulary, defaults and
  // placement must not land on the choice now loading. A run's own load (0) comes when none is.
  if (model.load != loading_load_) return;
  setLoading(QString(), 0);
  if (model.folder != model_picker_->currentFolder()) return;
  start_folder_.clear();
  showModel(model);
  // Not under a run: a load a Generate made after a failed choice leaves the settings it runs with.
  QStringList defaults;
  if (apply_model_defaults_ && !generating_) defaults = settings_panel_->applyModelDefaults(model);
  // Not said of the first model of a first start: the values it replaced were nobody's choice.
  if (fitted_folder_.isEmpty() && first_start_) defaults.clear();
  apply_model_defaults_ = false;
  fitted_folder_ = model.folder;
  log_->info(tr("model %1 loaded on %2").arg(model.name, model.device));
  // Said: a Wan folder chosen after a built-in model had turned 64×64×8 in 4 steps into 832×480×81
  // in 50 without a word, a long run on a CPU.
  if (!defaults.isEmpty()) log_->info(tr("Settings set to %1's defaults: %2").arg(model.name, defaults.join(", ")));
  if (!model.defaults_problem.isEmpty()) {
    log_->warning(tr("The model's own defaults cannot run as they are: %1. Check the Settings before you "
                     "generate.")
                      .arg(model.defaults_problem));
  }
  // The entry that loaded this model keeps its word on what Generate will do.
  const QString ready = defaults.isEmpty() ? tr("Model %1 ready").arg(model.name)
                                           : tr("Model %1 ready · Settings set to its defaults (the Log says which)")
                                                 .arg(model.name);
  const bool reloaded = !reload_folder_.isEmpty() && model.folder == reload_folder_;
  if (!generating_) statusBar()->showMessage(reloaded ? ready + " · " + reload_status_ : ready);
  reload_folder_.clear();
}

void MainWindow::showModel(const ModelSummary& model) {
  model_picker_->showModel(model);
  loaded_folder_ = model.folder;
  idle_expert_matters_ = model.low_noise_guidance && model.device.startsWith("cuda");
  prompt_panel_->setVocabulary(model.vocabulary);
  prompt_panel_->setExamples(prompt_examples_for(model.vocabulary));
  settings_panel_->showModelExperts(model);
  settings_panel_->fitVideoToModel(model);
  routing_->fitToModel(model.layers, model.heads);
}

void MainWindow::onStep(const StepEvent& e) {
  // The first sparse step's routing comes right after its step event, so by the next one it is in,
  // or no traced layer was sparse (it had gone on "waiting" to the end).
  if (work_ == Work::Generate && !routing_clear_pending_ && !routing_notes_.missed.isEmpty() &&
      e.step >= routing_notes_.first_sparse_step) {
    routing_->showNoStepsNote(no_sparse_traced_layer_note());
  }
  setProgressSteps(e.num_steps);
  progress_->setValue(e.step + 1);
  last_step_ = e;
  run_stepped_ = true;
  step_came_.start();
  showStepLine();
}

void MainWindow::showStepLine() { step_label_->setText(stepLine(false)); }

QString MainWindow::stepLine(bool finished) const {
  const QString run = work_ != Work::Generate && !run_label_.isEmpty() ? run_label_ + " · " : QString();
  if (!last_step_) {
    if (finished) return QString();
    const QString elapsed = seconds(double(run_started_.elapsed()));
    // Before the first step: the model's load (no phase yet), the prompt's encoding, then step 1,
    // which on a CPU or with k-means from scratch can take minutes.
    if (run_phase_ == RunPhase::EncodingPrompt) return run + tr("encoding the prompt · %1 elapsed").arg(elapsed);
    if (run_phase_ == RunPhase::Denoising) {
      return run + tr("step 1/%1 running · %2 elapsed").arg(requested_steps_).arg(elapsed);
    }
    if (!load_progress_.isEmpty()) return run + tr("loading the %1 · %2 elapsed").arg(load_progress_, elapsed);
    return run + tr("starting… · %1 elapsed").arg(elapsed);
  }
  const double since = double(step_came_.elapsed());
  QString eta = tr("done");
  if (!finished && run_phase_ == RunPhase::Decoding) {
    eta = tr("decoding the video");
  } else if (!finished) {
    const TimeLeftNow left =
        time_left_now(last_step_->eta_ms, since, last_step_->num_steps - last_step_->step - 1);
    eta = tr("ETA %1").arg(seconds(left.ms));
    // Past its estimate, the running step says how long it has run: a bound passed long ago (the
    // first sparse step's k-means, a loaded CPU) told nothing, and the step could pass for stuck.
    if (left.at_least) {
      const QString running = tr("step %1 running for %2").arg(last_step_->step + 2).arg(seconds(since));
      eta = left.ms > 0.0 ? tr("%1 · ETA ≥ %2").arg(running, seconds(left.ms)) : running;
    }
  }
  // The step's own time: "ms/step" read as a mean, beside the sweep table's and Compare's means.
  return run + tr("step %1/%2 took %3 · %4 elapsed · %5")
                   .arg(last_step_->step + 1)
                   .arg(last_step_->num_steps)
                   .arg(seconds(last_step_->step_ms))
                   .arg(seconds(last_step_->elapsed_ms + since), eta);
}

void MainWindow::takeRoutingForThisRun(const SharedVideo& clip) {
  if (routing_clear_pending_) {
    routing_clear_pending_ = false;
    routing_->clear();
    if (!routing_notes_.awaited.isEmpty()) routing_->showNoStepsNote(routing_notes_.awaited);
    routing_->setClip(nullptr);
    routing_seed_ = requested_seed_;
    routing_source_ = tr("seed %1").arg(requested_seed_);
    updateRoutingTitle();
    setRoutingMatchesPreview(false);
  }
  if (clip) {
    routing_->setClip(clip);
    setRoutingMatchesPreview(true);
    routing_->showVideoFrame(preview_->view()->currentFrame());
  }
}

// The Routing dock names the run its traces are of: once the preview shows another clip (a library
// reload, a later dense run) the traces would otherwise pass for that clip's.
void MainWindow::updateRoutingTitle() {
  auto* dock = findChild<QDockWidget*>("routing_dock");
  if (!dock) return;
  dock->setWindowTitle(routing_->steps().empty() ? tr("Routing") : tr("Routing · %1").arg(routing_source_));
  dock->toggleViewAction()->setText(tr("&Routing"));  // the View menu's entry, which the title renames
}

void MainWindow::setRoutingMatchesPreview(bool matches) {
  routing_matches_preview_ = matches;
  inspectShownTrace();
}

void MainWindow::inspectShownTrace() {
  const RoutingStep* step = routing_->selectedStep();
  const RoutingTrace* trace = routing_->selectedTrace();
  if (!step || !trace || !routing_matches_preview_) {
    preview_->view()->setInspection(nullptr, {}, QString());
    return;
  }
  if (const QString why = routing_->whyNoMap(*trace, tr("Token inspector")); !why.isEmpty()) {
    preview_->view()->setInspection(nullptr, {}, QString(), why);
    return;
  }
  preview_->view()->setInspection(trace, step->token_grid(),
                                  tr("step %1/%2 · layer %3 · head %4 · density %5 %")
                                      .arg(step->step + 1)
                                      .arg(step->num_steps)
                                      .arg(trace->layer)
                                      .arg(trace->head)
                                      .arg(100.0 * trace->density, 0, 'f', 1));
}

void MainWindow::onPreview(int step, const SharedVideo& video) {
  const PreviewPane::Clip clip = clip_of_the_run(run_estimate_shown_);
  run_estimate_shown_ = true;
  takeRoutingForThisRun(video);
  preview_->showClip(video, tr("estimate after step %1/%2").arg(step + 1).arg(requested_steps_), clip);
}

void MainWindow::onFinished(const SharedVideo& video, double total_ms) {
  // A run that sent no estimate or trace (a single step) has not taken the panel yet: the earlier
  // run's traces are not this clip's tokens, so they go, as the first estimate would have cleared them.
  takeRoutingForThisRun(video);
  result_ = video;
  result_seed_ = requested_seed_;
  result_partial_ = false;
  preview_->showClip(video, tr("final · seed %1").arg(requested_seed_), clip_of_the_run(run_estimate_shown_));
  progress_->setValue(progress_->maximum());
  step_label_->setText(stepLine(true));  // kept until the next run, with no ETA
  setGenerating(false);
  const QString done = tr("Finished: %1 in %2").arg(describe(*video), seconds(total_ms));
  log_->info(done);
  statusBar()->showMessage(done);
}

void MainWindow::onCancelled(const SharedVideo& partial, int steps_done) {
  step_label_->clear();  // its ETA was the stopped run's; the bar stays where it stopped
  if (work_ == Work::Sweep) {
    setGenerating(false);
    // Until its first point the view shows the previous sweep's, which stay.
    // The points left are another request's: named, since the panel's line was this sweep's.
    const QString kept_of = sweep_view_->pointsRequest().isEmpty()
                                ? QString()
                                : tr(", of %1").arg(bidi_controls_shown(sweep_view_->pointsRequest()));
    const QString ended = !sweep_view_->awaitsFirstPoint()  ? tr("Sweep cancelled: the points so far are kept")
                          : sweep_view_->points().empty() ? tr("Sweep cancelled before its first point")
                                                          : tr("Sweep cancelled before its first point: the "
                                                               "previous sweep's points are kept%1")
                                                                .arg(kept_of);
    sweep_view_->showMessage(ended);
    statusBar()->showMessage(tr("Sweep cancelled"));
    logWhichRunWasCancelled(ended, steps_done);
    return;
  }
  if (work_ == Work::Compare) {
    setGenerating(false);
    // The panel says what the status line says: whether the next Compare starts from the dense run.
    const QString ended =
        compare_run_ == 1 && compare_dense_cached_ ? tr("Compare cancelled; its dense run is kept for the next Compare")
        : compare_run_ == 1 ? tr("Compare cancelled; its dense run could not be cached (see the log), so the next "
                                 "Compare runs it again")
        : compare_run_ == 0 ? tr("Compare cancelled during its dense run")
                            : tr("Compare cancelled");
    compare_view_->showEnded(ended);
    statusBar()->showMessage(ended);
    logWhichRunWasCancelled(ended, steps_done);
    return;
  }
  if (partial) {
    // Shown as this run's clip: the earlier run's traces go (already gone when a preview or trace came).
    takeRoutingForThisRun(partial);
    result_ = partial;
    result_seed_ = requested_seed_;
    result_partial_ = true;
  }
  setGenerating(false);
  if (!partial) {
    if (preview_->view()->frameCount() == 0) preview_->clear();  // how to start one, again
    statusBar()->showMessage(tr("Cancelled before the first estimate: nothing to keep"));
    return;
  }
  // Every step done: the cancel came during the final decode, and the estimate kept is the last step's.
  const bool in_decode = steps_done == requested_steps_;
  // The seed, as the final caption gives it: a partial run is re-run with it to finish.
  const QString seed = tr("seed %1").arg(requested_seed_);
  preview_->showClip(partial, in_decode ? tr("partial · %1 · cancelled during the final decode").arg(seed)
                                        : tr("partial · %1 · cancelled after step %2/%3")
                                              .arg(seed)
                                              .arg(steps_done)
                                              .arg(requested_steps_),
                     clip_of_the_run(run_estimate_shown_));
  statusBar()->showMessage(in_decode ? tr("Cancelled during the final decode; the last estimate is kept")
                                     : tr("Cancelled after %1 of %2 steps; the last estimate is kept")
                                           .arg(steps_done)
                                           .arg(requested_steps_));
}

void MainWindow::onFailed(const QString& message) {
  // A word-wrapped vocabulary had grown the bottom panels for good, squeezing the preview.
  const QString brief = brief_error(message);
  if (work_ == Work::Compare) {
    compare_view_->showEnded(tr("Compare failed: %1").arg(brief));
    showDock("compare_dock");  // where the failure and the result still shown are, as after a success
  }
  if (work_ == Work::Sweep) sweep_view_->showMessage(tr("Sweep failed: %1").arg(brief));
  // The preview showed the failed run's estimates; what stays (and exports) is the earlier result.
  // A run that failed before its first estimate (a refused size, an unknown word) left the earlier
  // result on show as it was, partial or final, and its inspection with it.
  if (work_ == Work::Generate && result_ && run_estimate_shown_) {
    preview_->showClip(result_, tr("kept · seed %1 (the failed run's estimates are gone)").arg(result_seed_),
                       PreviewPane::Clip::Another);
    if (!routing_clear_pending_) setRoutingMatchesPreview(false);  // the panel holds the failed run's traces
  } else if (work_ == Work::Generate && !result_) {
    preview_->clear();  // no earlier result: the failed run's estimate must not pass for one
    setRoutingMatchesPreview(false);
  } else if (work_ == Work::Generate && preview_->view()->frameCount() == 0) {
    preview_->clear();  // "Generating…" no more
  }
  setGenerating(false);
  step_label_->clear();
  // Failed before any step finished, whatever the reason (an unknown word, an impossible size, a
  // model that would not load, out of memory in step 1): the prompt was never generated, so it
  // leaves the history, and the seed drawn for it goes back to the one shown before. A cancelled
  // run keeps both: the artist stopped it.
  if (!run_stepped_) {
    prompt_panel_->setHistory(history_before_run_);
    settings_panel_->setSeed(seed_before_run_);
    // Nor did it make progress: "0 / 10 steps" described a run that never began.
    progress_->setValue(0);
    progress_->setTextVisible(false);
  }
  reportError(message);
}

void MainWindow::onCompareRunStarted(const QString& run, int index) {
  if (work_ == Work::Sweep) {  // a sweep's dense run
    startRunOfMany(tr("dense run"));
    sweep_view_->showRunning(tr("Sweep: the dense run…"));
    return;
  }
  compare_run_ = index;
  startRunOfMany(tr("%1 run %2 of 2").arg(run).arg(index + 1));
  compare_view_->showRunning(tr("Comparing: %1…").arg(run_label_));
}

void MainWindow::onSweepRunStarted(double top_p, int index, int total) {
  startRunOfMany(tr("top-p %1, run %2 of %3").arg(top_p).arg(index + 1).arg(total));
  sweep_view_->showRunning(tr("Sweep: %1…").arg(run_label_));
}

// The generator's own line says only "cancelled after N steps": this one names which of a Compare's
// or sweep's runs that was.
void MainWindow::logWhichRunWasCancelled(const QString& ended, int steps_done) {
  log_->info(tr("%1 (its %2 stopped after %3)").arg(ended, run_label_, counted(steps_done, tr("step"), tr("steps"))));
}

void MainWindow::startRunOfMany(const QString& label) {
  // The step line and bar are the new run's at once, not the last run's final step.
  progress_->setValue(0);
  run_label_ = label;
  last_step_.reset();
  run_phase_.reset();
  run_started_.start();
  showStepLine();
}

void MainWindow::onSweepFinished(const QString& mode, bool dense_reused) {
  step_label_->setText(stepLine(true));
  setGenerating(false);
  progress_->setValue(progress_->maximum());
  const QString done = tr("Swept %1 over %2 against dense%3; pick a row and “Use this budget”")
                           .arg(mode)
                           .arg(counted(qsizetype(sweep_view_->points().size()), tr("budget"), tr("budgets")))
                           .arg(dense_reused ? tr(" (dense run reused from the cache)") : QString());
  sweep_view_->finish(done);
  log_->info(done);
  statusBar()->showMessage(done);
}

void MainWindow::showLastCompare() {
  auto* reading = new QFutureWatcher<LastCompareRead>(this);
  connect(reading, &QFutureWatcherBase::finished, this, [this, reading] {
    reading->deleteLater();
    const LastCompareRead read = reading->future().takeResult();
    if (!read.error.isEmpty()) {
      log_->warning(tr("The last session's Compare is not shown (and removed): %1").arg(read.error));
    }
    // A Compare of this session, under way or ended however, has the panel.
    if (!read.result || compared_this_session_) return;
    compare_view_->showResult(*read.result, false);
    const QString prompt = QString::fromStdString(read.result->prompt);
    // By its time: not necessarily the last session's last (one that could not be kept leaves the one before).
    const std::string& created = read.result->created;
    compare_view_->showMessage(created.empty() ? tr("A Compare kept from an earlier session, of \"%1\"").arg(prompt)
                                               : tr("The Compare of %1, kept from an earlier session, of \"%2\"")
                                                     .arg(local_time_text(created), prompt));
    updateExportActions();
  });
  reading->setFuture(QtConcurrent::run([folder = last_compare_folder().toStdString()] {
    LastCompareRead read;
    try {
      read.result = read_last_compare(folder);
    } catch (const std::exception& e) {
      read.error = QString::fromUtf8(e.what());
      std::error_code ignored;  // so that the next start does not say it again
      std::filesystem::remove_all(folder, ignored);
    }
    return read;
  }));
}

void MainWindow::onCompareFinished(const CompareResult& result) {
  compare_view_->showResult(result);
  step_label_->setText(stepLine(true));
  setGenerating(false);  // after the result: it enables the comparison export
  progress_->setValue(progress_->maximum());
  showDock("compare_dock");
  QTimer::singleShot(0, this, [this] { growCompareViews(); });  // once the dock in front is laid out
  const QString done = tr("Compared dense and %1: PSNR %2, SSIM %3%4")
                           .arg(QString::fromStdString(result.sparse_mode),
                                QString::fromStdString(format_psnr_db(result.mean_psnr_db)))
                           .arg(result.mean_ssim, 0, 'f', 4)
                           .arg(result.dense_reused ? tr(" (dense run reused from the cache)") : QString());
  log_->info(done);
  statusBar()->showMessage(done);
}

bool MainWindow::exportVideo(const QString& path) { return exportResult(resultToExport(), path, Exporter::Format::Video); }

bool MainWindow::exportFrames(const QString& folder) {
  return exportResult(resultToExport(), folder, Exporter::Format::PngFrames);
}

void MainWindow::beginExport(const QString& path) {
  ++pending_exports_;  // the exporter's exported / failed signal counts it down
  statusBar()->showMessage(tr("Exporting %1…").arg(path));
}

QString MainWindow::ResultToExport::name() const {
  // A cancelled run's result is its last estimate: named so, not as a finished video.
  return QString("svgear-%1%2").arg(seed).arg(partial ? "-partial" : "");
}

bool MainWindow::exportResult(const ResultToExport& result, const QString& path, Exporter::Format format) {
  if (!result.video) {
    reportError(tr("nothing to export yet: generate a video first"));
    return false;
  }
  beginExport(path);
  if (result.partial) log_->info(tr("%1: the last estimate of a cancelled run, not a finished video").arg(path));
  exporter_->exportVideo(result.video, path, format, result.name() + "-frames");
  return true;
}

bool MainWindow::exportComparison(const QString& path) {
  if (!compare_view_->hasResult()) {
    reportError(tr("nothing to export yet: run Compare first"));
    return false;
  }
  const CompareResult& shown = compare_view_->result();
  beginExport(path);
  exporter_->exportComparison(shown.dense, shown.sparse, shown.difference, path);
  return true;
}

bool MainWindow::exportRoutingTrace(const QString& path) { return exportSteps(routingToExport(), path); }

std::vector<std::shared_ptr<const RoutingStep>> MainWindow::routingToExport() const {
  return {routing_->steps().begin(), routing_->steps().end()};
}

bool MainWindow::exportSteps(std::vector<std::shared_ptr<const RoutingStep>> steps, const QString& path) {
  if (generating_) {  // the panel's steps are still arriving (and losing their maps to the budget)
    reportError(tr("a run is in progress: export the routing trace after it finishes"));
    return false;
  }
  if (steps.empty()) {
    reportError(tr("no routing to export: generate with SVG2 or SVG-EAR and Trace ticked"));
    return false;
  }
  beginExport(path);
  exporter_->exportRoutingTrace(std::move(steps), path);
  return true;
}

namespace {

// A trace file as read on the thread pool, or why it cannot be shown.
struct OpenedTrace {
  std::vector<std::shared_ptr<RoutingStep>> steps;
  QString error;
  QString cut_short;  // where a file cut short after whole steps breaks off
};

}  // namespace

bool MainWindow::openRoutingTrace(const QString& path) {
  if (generating_) {
    reportError(tr("a run is in progress, and the Routing panel shows its steps: open the trace after it finishes"));
    return false;
  }
  stopTraceOpening();
  const int opening = trace_opening_;
  trace_reading_ = std::make_shared<RoutingTraceReading>();
  trace_progress_text_ = tr("Reading the routing trace %1…").arg(path);
  statusBar()->showMessage(trace_progress_text_);
  // A Wan trace takes tens of seconds to read: the count says it is moving.
  if (!trace_progress_) {
    trace_progress_ = new QTimer(this);
    trace_progress_->setInterval(250);
  }
  trace_progress_->disconnect();
  connect(trace_progress_, &QTimer::timeout, this, [this, path, reading = trace_reading_] {
    if (statusBar()->currentMessage() != trace_progress_text_) return;  // a newer message stands
    trace_progress_text_ = tr("Reading the routing trace %1… %2 of %3 so far")
                               .arg(path, counted(reading->traces.load(), tr("trace"), tr("traces")),
                                    counted(reading->steps.load(), tr("step"), tr("steps")));
    statusBar()->showMessage(trace_progress_text_);
  });
  trace_progress_->start();
  auto* watcher = new QFutureWatcher<OpenedTrace>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, opening, path] {
    watcher->deleteLater();
    if (opening != trace_opening_) return;  // a newer opening is under way
    trace_progress_->stop();
    OpenedTrace opened = watcher->future().takeResult();
    if (!opened.error.isEmpty()) {
      reportError(tr("cannot open the routing trace: %1").arg(opened.error));
      return;
    }
    // What made it, as far as the file says (its words are the file's: each field checked).
    const nlohmann::json run = opened.steps.empty() ? nlohmann::json() : opened.steps.front()->run;
    routing_clear_pending_ = false;
    routing_->clear();
    routing_->addSteps(std::move(opened.steps));
    // The preview shows another video: no inspector or underlay from the trace's tokens.
    setRoutingMatchesPreview(false);
    routing_->setClip(nullptr);
    const auto field = [](const nlohmann::json& object, const char* key) {
      return object.is_object() && object.contains(key) ? object[key] : nlohmann::json();
    };
    const nlohmann::json request = field(run, "request"), model = field(run, "model"), prompt = field(request, "prompt");
    const bool has_seed = field(request, "seed").is_number_unsigned();
    if (has_seed) routing_seed_ = request["seed"].get<uint64_t>();
    QString what = bidi_controls_shown(QFileInfo(path).fileName());  // an override reversed the tab
    // The name as the tab can hold it; "[*]" in a title is Qt's modified mark, written "[*][*]" as text.
    const QString name = fontMetrics().elidedText(what, Qt::ElideMiddle, 30 * fontMetrics().averageCharWidth())
                             .replace("[*]", "[*][*]");
    routing_source_ = has_seed ? tr("%1, seed %2").arg(name, QString::number(routing_seed_)) : name;
    updateRoutingTitle();
    if (model.is_string() && prompt.is_string()) {
      // A file's prompt of thousands of characters had filled the Log and pushed its errors away.
      constexpr qsizetype kPromptInLog = 200;
      QString said = QString::fromStdString(prompt.get<std::string>());
      if (said.size() > kPromptInLog) said = tr("%1… (%2 characters)").arg(said.left(kPromptInLog)).arg(said.size());
      what = tr("%1 (%2, \"%3\")").arg(what, QString::fromStdString(model.get<std::string>()), said);
    }
    const int steps = int(routing_->steps().size());
    log_->info(tr("opened the routing of %1 from %2").arg(counted(steps, tr("step"), tr("steps")), what));
    if (!opened.cut_short.isEmpty()) {
      log_->warning(opened.cut_short);
      status_line_->showDetailed(tr("Routing trace opened: its first %1; the file breaks off after them")
                                     .arg(counted(steps, tr("step"), tr("steps"))),
                                 opened.cut_short);
    } else {
      statusBar()->showMessage(steps == 0 ? tr("The routing trace %1 holds no steps (every step was dense)").arg(path)
                                          : tr("Routing trace opened: %1").arg(counted(steps, tr("step"), tr("steps"))));
    }
    showDock("routing_dock");
    updateExportActions();
  });
  watcher->setFuture(QtConcurrent::run([file = path.toStdString(), budget = routing_->detailBudget(), reading = trace_reading_] {
    OpenedTrace opened;
    try {
      std::string cut_short;
      opened.steps = read_routing_steps(file, budget, reading.get(), cut_short);
      opened.cut_short = QString::fromStdString(cut_short);
    } catch (const std::exception& e) {  // thrown out of the task, it would end the studio
      opened.error = QString::fromStdString(e.what());
    }
    return opened;
  }));
  return true;
}

bool MainWindow::isOpeningTrace() const { return trace_progress_ && trace_progress_->isActive(); }

void MainWindow::stopTraceOpening() {
  ++trace_opening_;  // what an earlier opening reads is not shown
  if (trace_progress_) trace_progress_->stop();
  if (trace_reading_) trace_reading_->stop.store(true);
}

// A result's panel comes to the front, and back on screen when View had closed it: raise() alone
// left a Compare's result in a hidden panel, said only by the status bar.
void MainWindow::showDock(const char* name) {
  if (auto* dock = findChild<QDockWidget*>(name)) {
    dock->show();
    dock->raise();
  }
}

QString MainWindow::exportStartFolder() {
  const QString saved = QSettings().value("export/folder").toString();
  const QString real = QFileInfo(saved).canonicalFilePath();  // empty when gone
  if (real.isEmpty() || !QFileInfo(real).isDir()) return QDir::homePath();
  // Kernel file systems: Qt's dialog reads their files to type them, and /proc/kmsg never answers.
  // Such a folder was saved by studios before an export had to succeed to be remembered.
  for (const QString pseudo : {"/proc", "/sys", "/dev"}) {
    if (real == pseudo || real.startsWith(pseudo + "/")) return QDir::homePath();
  }
  return saved;  // as written, through any link: the folder the user knows
}

QString MainWindow::chooseExportPath(const QString& title, const QString& file_name, const QString& filter) {
  const QString folder = exportStartFolder();
  QString chosen_filter;
  // The dialog does not ask about replacing a file: the name typed may not be the one written (see
  // below), and a question about /dev/full before writing /dev/full.mp4 misleads. The one question
  // comes after, about the file the export writes.
  QStringList extensions;
  for (const QRegularExpressionMatch& m : QRegularExpression(R"(\*(\.\w+))").globalMatch(filter)) extensions << m.captured(1);
  QString start = QDir(folder).filePath(file_name);
  for (;;) {
    QString path =
        QFileDialog::getSaveFileName(this, title, start, filter, &chosen_filter, QFileDialog::DontConfirmOverwrite);
    if (path.isEmpty()) return path;
    // A name typed without one of the filter's extensions takes the chosen type's: the writers read a
    // bare name as a folder of PNG frames, and refuse one like "take.2" after the dialog has closed.
    if (!extensions.contains("." + QFileInfo(path).suffix().toLower())) {
      if (path.endsWith('.')) path.chop(1);  // "take." is "take", not "take..mp4"
      const QRegularExpressionMatch type = QRegularExpression(R"(\(\*(\.\w+))").match(chosen_filter);
      path += type.hasMatch() ? type.captured(1) : extensions.value(0);
    }
    // No is Enter's answer: a second habitual Enter after the dialog's must not replace an export.
    // No brings the dialog back at that name, for another, as a save dialog's own question does.
    if (!QFileInfo::exists(path) ||
        QMessageBox::question(this, title,
                              tr("%1 already exists. Replace it?").arg(bidi_controls_shown(QFileInfo(path).fileName())),
                              QMessageBox::Yes | QMessageBox::No, QMessageBox::No) == QMessageBox::Yes) {
      return path;
    }
    start = path;
  }
}

QString MainWindow::videoFilter() const {
  // Without FFmpeg an .mp4 would be written as .y4m beside it, replacing a file the dialog never
  // asked about: Y4M is then the only choice.
  return mp4_supported() ? tr("MP4 video (*.mp4);;Y4M video (*.y4m)") : tr("Y4M video (*.y4m)");
}

void MainWindow::chooseExportVideo() {
  const ResultToExport result = resultToExport();  // what the dialog names, whatever arrives meanwhile
  const QString path = chooseExportPath(tr("Export video"), result.name() + (mp4_supported() ? ".mp4" : ".y4m"),
                                        videoFilter());
  if (!path.isEmpty()) exportResult(result, path, Exporter::Format::Video);
}

void MainWindow::chooseExportFrames() {
  const ResultToExport result = resultToExport();
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Export PNG frames into"), exportStartFolder());
  if (folder.isEmpty()) return;
  exportResult(result, folder, Exporter::Format::PngFrames);
}

// A disabled action's shortcut reaches the window as a plain key: Ctrl+Enter during a run, or just
// after Esc while it ends, did nothing without a word outside the prompt (which says why itself).
void MainWindow::keyPressEvent(QKeyEvent* event) {
  // The keypad's Enter carries KeypadModifier, which no shortcut names.
  const QKeySequence pressed(QKeyCombination(event->modifiers() & ~Qt::KeypadModifier, Qt::Key(event->key())));
  for (QAction* action : {generate_action_, compare_action_, sweep_action_}) {
    const bool allowed = action == generate_action_ ? runsAllowed() : cachedRunsAllowed();
    if (!action->isEnabled() && action->shortcuts().contains(pressed) && !allowed) {
      status_line_->showNotice(whyNoRun());
      event->accept();
      return;
    }
  }
  if (sayWhyNoExport(pressed)) {
    event->accept();
    return;
  }
  if (!open_model_action_->isEnabled() && open_model_action_->shortcuts().contains(pressed)) {  // was silent
    status_line_->showNotice(tr("The model stays while the run goes on: open another once it has ended"));
    event->accept();
    return;
  }
  QMainWindow::keyPressEvent(event);
}

// Qt's focus chain is the order the controls were made in: it had gone from Settings to the Log,
// then the Routing panel, and only then to the preview's Loop and Zoom. It now follows the first
// layout: the Model and Prompt panels, the preview, Settings, the panels beneath and their tabs,
// the Log.
void MainWindow::orderFocusChain() {
  std::vector<QWidget*> stops;  // the chain's tab stops, in its order now
  for (QWidget* w = nextInFocusChain(); w != this; w = w->nextInFocusChain()) {
    if ((w->focusPolicy() & Qt::TabFocus) && !w->focusProxy()) stops.push_back(w);
  }
  const auto dock = [this](const char* name) -> QWidget* { return findChild<QDockWidget*>(name); };
  std::vector<QWidget*> regions = {dock("model_dock"),   dock("prompt_dock"),  centralWidget(),
                                   dock("settings_dock"), dock("routing_dock"), dock("compare_dock"),
                                   dock("sweep_dock"),    dock("library_dock")};
  for (QTabBar* tabs : findChildren<QTabBar*>(QString(), Qt::FindDirectChildrenOnly)) regions.push_back(tabs);
  regions.push_back(dock("log_dock"));
  QWidget* previous = nullptr;
  for (QWidget* region : regions) {
    for (QWidget* stop : stops) {
      if (stop != region && !region->isAncestorOf(stop)) continue;
      if (previous) setTabOrder(previous, stop);
      previous = stop;
    }
  }
}

// The prompt, past the Examples button; the Library's list, where Enter opens and Delete deletes;
// else the panel's first control that takes Tab.
void MainWindow::focusPanel(QDockWidget* dock) {
  if (dock->widget() == prompt_panel_) {
    prompt_panel_->focusPrompt();
    return;
  }
  if (dock->isAncestorOf(library_)) {
    library_->focusList();
    return;
  }
  for (QWidget* w = nextInFocusChain(); w != this; w = w->nextInFocusChain()) {
    if (dock->isAncestorOf(w) && (w->focusPolicy() & Qt::TabFocus) && !w->focusProxy() && w->isEnabled() &&
        w->isVisibleTo(dock)) {
      w->setFocus(Qt::OtherFocusReason);
      return;
    }
  }
}

// Qt keeps the panels behind another tab of their dock area shown, moved off-screen, and the focus
// chain stopped on their controls unseen (14 stops of the Routing panel behind the Library; Space
// there unticked Trace): Tab and Shift+Tab pass over them.
bool MainWindow::focusNextPrevChild(bool next) {
  const auto behind_another_tab = [](const QWidget* w) {
    for (; w; w = w->parentWidget()) {
      if (const auto* dock = qobject_cast<const QDockWidget*>(w)) return dock->visibleRegion().isEmpty();
    }
    return false;
  };
  const QWidget* start = focusWidget();
  for (int stop = 0; stop < 1000; ++stop) {  // a bound, in case the chain never comes back
    if (!QMainWindow::focusNextPrevChild(next)) return false;
    const QWidget* now = focusWidget();
    if (!now || now == start || !behind_another_tab(now)) break;
  }
  return true;
}

// The Model panel scrolls on a short window. A taller one gives its spare height to the prompt
// history, which expands, and a model's longer summary would stay scrolled too: the panel takes its
// whole height back first, where the prompt panel can spare it. A shorter one takes its height from
// both panels alike, which had cut the model's summary mid-line beside an empty history: the
// history gives way first. Both come through the column's change (fitModelPanelIfColumnChanged).
void MainWindow::fitModelPanel() {
  auto* model = findChild<QDockWidget*>("model_dock");
  if (!model || model->isFloating() || !model->isVisible()) return;
  int more = model->sizeHint().height() - model->height();
  if (more <= 0) return;
  // The height comes from the Prompt panel when it is stacked with the Model panel (as at first):
  // resized alone, the Model panel would get half of what it asked for, the column shrinking both.
  auto* prompt = findChild<QDockWidget*>("prompt_dock");
  const bool stacked = prompt && !prompt->isFloating() && prompt->isVisible() &&
                       dockWidgetArea(prompt) == dockWidgetArea(model) && prompt->x() == model->x() &&
                       prompt->width() == model->width();
  if (!stacked) {
    resizeDocks({model}, {model->height() + more}, Qt::Vertical);
    return;
  }
  more = std::min(more, prompt->height() - prompt->minimumSizeHint().height());
  if (more > 0) resizeDocks({model, prompt}, {model->height() + more, prompt->height() - more}, Qt::Vertical);
}

void MainWindow::growCompareViews() {
  auto* dock = findChild<QDockWidget*>("compare_dock");
  if (!dock || dock->isFloating() || !compare_view_->isVisible() || dockWidgetArea(dock) != Qt::BottomDockWidgetArea) {
    return;
  }
  // A panel too short for its content scrolls: that shortfall comes first.
  const int scrolled = std::max(0, compare_view_->height() - compare_view_->parentWidget()->height());
  const int more = std::min(compare_view_->heightWanted() + scrolled, centralWidget()->height() - kPreviewKeepsPx);
  if (more > 0) resizeDocks({dock}, {dock->height() + more}, Qt::Vertical);
}

int MainWindow::modelColumnHeight() const {
  auto* model = findChild<QDockWidget*>("model_dock");
  auto* prompt = findChild<QDockWidget*>("prompt_dock");
  if (!model || !prompt) return 0;
  return model->height() + (prompt->isVisible() && !prompt->isFloating() ? prompt->height() : 0);
}

void MainWindow::fitModelPanelIfColumnChanged() {
  model_fit_queued_ = false;
  if (dragging_separator_) return;
  const int column = modelColumnHeight();
  if (column != model_column_height_) fitModelPanel();
  model_column_height_ = column;
}

bool MainWindow::event(QEvent* event) {
  // Nothing in the studio has a status tip: a menu sends its hovered action's empty one, which
  // QMainWindow would show, wiping the status line's message as the menu opened. (A status tip
  // added one day would stay until the next message.)
  if (event->type() == QEvent::StatusTip && static_cast<QStatusTipEvent*>(event)->tip().isEmpty()) return true;
  const bool handled = QMainWindow::event(event);
  // QMainWindow accepts a left press only on a dock separator (one a child ignored reaches it too).
  // The column's height then is what the release compares with.
  if (event->type() == QEvent::MouseButtonPress && event->isAccepted() &&
      static_cast<QMouseEvent*>(event)->button() == Qt::LeftButton) {
    dragging_separator_ = true;
    model_column_height_ = modelColumnHeight();
  }
  // A release the window never sees (its grab lost as it was deactivated) ends the drag too.
  if (dragging_separator_ && (event->type() == QEvent::WindowDeactivate ||
                              (event->type() == QEvent::MouseButtonRelease &&
                               !(static_cast<QMouseEvent*>(event)->buttons() & Qt::LeftButton)))) {
    dragging_separator_ = false;
    QMetaObject::invokeMethod(this, &MainWindow::fitModelPanelIfColumnChanged, Qt::QueuedConnection);
  }
  if (event->type() == QEvent::Show && !shown_once_) {
    shown_once_ = true;
    // The first layout's bottom panels at their height, now that the window has its size: they
    // scroll, so they ask for little, and Qt had given the preview all the rest.
    if (!layout_restored_) {
      QTimer::singleShot(0, this, [this] {
        resizeDocks({findChild<QDockWidget*>("routing_dock")}, {kBottomPanelsPx}, Qt::Vertical);
      });
    }
    // A floating panel restored with the layout was shown before the window, which then covered it
    // (and View, seeing it shown, hid it at the first choice): raised once the window is up. An X11
    // matter: a Wayland compositor stacks a panel by its parent whenever it maps.
    if (QGuiApplication::platformName() == QLatin1String("xcb")) {
      QTimer::singleShot(0, this, [this] {
        for (QDockWidget* dock : findChildren<QDockWidget*>()) {
          if (!dock->isFloating() || !dock->isVisible()) continue;
          // Mapped again after the window: a window manager stacks a transient panel over its parent
          // only if the parent was there when the panel came.
          dock->hide();
          dock->show();
        }
      });
    }
  }
  // Once the dock has taken the panel's new size hint as its limit: before, the window's layout
  // would hold the panel to its old height.
  if (event->type() == QEvent::LayoutRequest && model_panel_changed_) {
    auto* model = findChild<QDockWidget*>("model_dock");
    if (model && model->maximumHeight() >= model->sizeHint().height()) {
      model_panel_changed_ = false;
      fitModelPanel();
    }
  }
  return handled;
}

// A panel behind another tab of its dock area is shown, only laid out off-screen, so its entry in
// View, or in the docks' own context menu, is ticked: choosing it brings it to the front instead of
// closing it (it had taken two choices, and the keyboard has no other way to a tab). Which panels
// are behind is read as the menu opens: by the time an entry's handler runs, its toggle has hidden
// the panel. It is forgotten once the menu is gone (after its entry's handler, which comes later),
// so that the other menu's entries never act on a stale reading.
void MainWindow::noteDocksBehindTabs(QMenu* menu) {
  connect(menu, &QMenu::aboutToShow, this, [this] {
    docks_behind_tabs_.clear();
    for (QDockWidget* dock : findChildren<QDockWidget*>()) {
      if (dock->isVisible() && !dock->isFloating() && dock->visibleRegion().isEmpty()) docks_behind_tabs_.insert(dock);
    }
  });
  connect(menu, &QMenu::aboutToHide, this, [this] {
    QTimer::singleShot(0, this, [this] { docks_behind_tabs_.clear(); });
  });
}

QMenu* MainWindow::createPopupMenu() {
  QMenu* menu = QMainWindow::createPopupMenu();
  if (menu) noteDocksBehindTabs(menu);
  return menu;
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!closeDuringRunConfirmed()) {
    event->ignore();
    return;
  }
  saveSettings();
  supersedeLibraryOpen();  // a reload decoding now must not reach the worker with a model load
  model_picker_->forgoDefault();  // nor a model scan that ends after the close
  if (loading_load_ == kLoadAwaitsDevices) setLoading(QString(), 0);  // nor the device list
  worker_->cancel();
  event->accept();
}

bool MainWindow::closeDuringRunConfirmed() {
  if (!generating_ || run_cancel_asked_) return true;
  const QString running = work_ == Work::Compare ? tr("A Compare is running")
                          : work_ == Work::Sweep ? tr("A sweep is running")
                                                 : tr("A generation is running");
  QMessageBox ask(QMessageBox::Warning, tr("Close SVG-EAR Studio"), QString(), QMessageBox::NoButton, this);
  ask.setObjectName("close_during_run");
  QAbstractButton* close = ask.addButton(QString(), QMessageBox::DestructiveRole);
  QPushButton* keep = ask.addButton(QString(), QMessageBox::RejectRole);
  ask.setDefaultButton(keep);
  ask.setEscapeButton(keep);
  // The run goes on while this asks: the question follows its steps (each run's, for a Compare or a
  // sweep), and once the run has ended it asks only whether to close.
  const auto describe = [this, &ask, close, keep, running] {
    if (!generating_) {
      ask.setText(tr("The run has ended. Close the window?"));
      close->setText(tr("Close"));
      keep->setText(tr("Don't close"));
      return;
    }
    // Which run and step, as Esc's question says it, and what outlives the window: a Compare's or a
    // sweep's what cancelling keeps (a cached dense run; the sweep's points, saved on close), a
    // generation's nothing (its partial clip lives in the window).
    QStringList where = {run_label_, stepsDone()};
    where.removeAll(QString());
    const QString kept = work_ == Work::Generate ? tr("What it has made so far is lost.") : whatCancelKeeps();
    ask.setText(running + (where.isEmpty() ? QString() : " (" + where.join(", ") + ")") +
                tr(". Closing the window cancels it. ") + kept);
    close->setText(tr("Cancel the run and close"));
    keep->setText(tr("Keep running"));
  };
  describe();
  followRun(ask, describe);
  ask.exec();
  return ask.clickedButton() == close;
}

bool MainWindow::cancelDuringRunConfirmed() {
  if (!generating_ || run_cancel_asked_) return true;
  if (double(work_started_.elapsed()) < cancelQuestionAfterS() * 1000.0) return true;
  QMessageBox ask(QMessageBox::Question, tr("Cancel the run"), QString(), QMessageBox::NoButton, this);
  ask.setObjectName("cancel_during_run");
  QAbstractButton* stop = ask.addButton(tr("Cancel the run"), QMessageBox::DestructiveRole);
  QPushButton* keep = ask.addButton(tr("Keep running"), QMessageBox::RejectRole);
  // Enter, Space on the focused default and a second Esc all keep the run.
  ask.setDefaultButton(keep);
  ask.setEscapeButton(keep);
  const auto describe = [this, &ask] {
    if (!generating_) {  // it ended while asked: nothing left to cancel
      ask.reject();
      return;
    }
    const QString work = work_ == Work::Compare ? tr("The Compare") : work_ == Work::Sweep ? tr("The sweep")
                                                                                          : tr("The generation");
    QStringList where = {run_label_, stepsDone()};
    where.removeAll(QString());
    ask.setText(tr("%1 has run for %2%3. %4")
                    .arg(work, elapsed_text(work_started_.elapsed()),
                         where.isEmpty() ? QString() : " (" + where.join(", ") + ")", whatCancelKeeps()));
  };
  describe();
  followRun(ask, describe);
  ask.exec();
  return ask.clickedButton() == stop && generating_;
}

QString MainWindow::stepsDone() const {
  return last_step_ ? tr("step %1 of %2 done").arg(last_step_->step + 1).arg(last_step_->num_steps) : QString();
}

QString MainWindow::whatCancelKeeps() const {
  switch (work_) {
    case Work::Compare:
      return compare_run_ < 0        ? tr("Cancelling it stops it before its first run.")
             : compare_run_ == 0     ? tr("Cancelling it loses its dense run so far.")
             : compare_dense_cached_ ? tr("Cancelling it keeps its dense run for the next Compare; the sparse run "
                                          "so far is lost.")
                                     : tr("Cancelling it loses both runs: the dense run could not be cached.");
    case Work::Sweep: {
      if (!sweep_view_->awaitsFirstPoint()) return tr("Cancelling it keeps the points so far.");
      // The previous sweep's points stay until this one's first.
      const QString kept = sweep_view_->points().empty() ? QString() : tr(" The previous sweep's points stay.");
      return (compare_dense_cached_ ? tr("Cancelling it keeps its dense run for the next sweep or Compare; no point "
                                         "is done yet.")
                                    : tr("Cancelling it loses it: no point is done yet.")) +
             kept;
    }
    case Work::Generate:
      break;
  }
  return run_stepped_ ? tr("Cancelling it keeps its last step's estimate as a partial clip.")
                      : tr("Cancelling it loses it: no step has finished yet.");
}

double MainWindow::cancelQuestionAfterS() {
  constexpr double kDefaultS = 30.0;
  const QVariant saved = QSettings().value("run/confirm_cancel_after_s", kDefaultS);
  bool ok = false;
  const double after_s = saved.toDouble(&ok);
  if (ok && after_s >= 0.0) return after_s;
  log_->warning(tr("The setting run/confirm_cancel_after_s is \"%1\", not a number of seconds: Esc asks after %2 s")
                    .arg(saved.toString())
                    .arg(kDefaultS));
  return kDefaultS;
}

void MainWindow::followRun(QMessageBox& ask, const std::function<void()>& describe) {
  connect(step_clock_, &QTimer::timeout, &ask, describe);  // the time it names, between steps too
  connect(worker_, &GenerationWorker::stepDone, &ask, describe);
  connect(worker_, &GenerationWorker::compareRunStarted, &ask, describe);
  connect(worker_, &GenerationWorker::sweepRunStarted, &ask, describe);
  connect(worker_, &GenerationWorker::finished, &ask, describe);
  connect(worker_, &GenerationWorker::cancelled, &ask, describe);
  connect(worker_, &GenerationWorker::failed, &ask, describe);
  connect(worker_, &GenerationWorker::compareFinished, &ask, describe);
  connect(worker_, &GenerationWorker::sweepFinished, &ask, describe);
}

QString MainWindow::saveSettings() const {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  // For a screen of another width, where Qt refuses the geometry (restoreSettings).
  settings.setValue("window/size", isMaximized() || isFullScreen() ? normalGeometry().size() : size());
  settings.setValue("window/maximized", isMaximized());
  settings.setValue("window/state", saveState());
  model_picker_->save(settings);
  prompt_panel_->save(settings);
  settings_panel_->commitTypedValues();
  settings_panel_->save(settings);
  settings.setValue("settings/chosen", settings_chosen_);
  routing_->save(settings);
  sweep_view_->save(settings);
  preview_->save(settings);
  // A settings file that is a folder, on a read-only disk, or under a HOME that cannot be written.
  // Said on stderr too: at the window's close no window is left to say it in.
  settings.sync();
  if (settings.status() == QSettings::NoError) return {};
  std::fprintf(stderr, "svgear-studio: the settings could not be saved in %s\n", qPrintable(settings.fileName()));
  return tr("The settings could not be saved in %1: what you change now is lost when the studio closes. Make the "
            "file and its folder writable.")
      .arg(settings.fileName());
}

void MainWindow::restoreSettings() {
  const QSettings settings;
  if (settings.status() == QSettings::FormatError) {
    log_->warning(tr("the settings in %1 could not be read; the defaults are used").arg(settings.fileName()));
  }
  const QByteArray geometry = settings.value("window/geometry").toByteArray();
  if (!geometry.isEmpty() && !restoreGeometry(geometry)) {
    // Qt refuses a geometry saved on a screen of another width (past 0.8–1.25×: a laptop docked to a
    // monitor, another resolution): the size chosen then stays, as large as this screen allows.
    const QSize saved = settings.value("window/size").toSize();
    if (saved.isValid()) resize(saved.expandedTo(minimumSizeHint()));
    if (settings.value("window/maximized").toBool()) setWindowState(windowState() | Qt::WindowMaximized);
  }
  // Qt keeps a saved frame that only touches the screen: one saved on a screen that is gone came
  // back with 100 pixels showing. Moved wholly onto the screen it is on, and shrunk to it if larger.
  // Not shown yet, the window has no frame (its frame is its geometry): room for a title bar is
  // left, as on the first start, or a window restored at the screen's height had its status line
  // pushed past the bottom by the frame the window manager adds.
  if (const QScreen* screen = this->screen()) {
    const QRect available = screen->availableGeometry();
    const QSize drawn = frameGeometry().size() - size();
    const QSize margins = drawn.isNull() ? QSize(0, kWindowFrameRoom) : drawn;
    const QRect frame(frameGeometry().topLeft(), size() + margins);
    if (!available.contains(frame)) {
      resize(size().boundedTo(available.size() - margins));
      const QSize fitted = size() + margins;
      // The top left corner on the screen when the window is larger than it (its minimum size).
      move(std::max(available.left(), std::min(frame.x(), available.right() + 1 - fitted.width())),
           std::max(available.top(), std::min(frame.y(), available.bottom() + 1 - fitted.height())));
    }
  }
  layout_restored_ = restoreState(settings.value("window/state").toByteArray());
  first_start_ = !settings.contains("settings/chosen");  // saved with the panels' values, at every save
  model_picker_->restore(settings);
  prompt_panel_->restore(settings);
  settings_panel_->restore(settings);
  settings_chosen_ = settings.value("settings/chosen", false).toBool();
  routing_->restore(settings);
  sweep_view_->restore(settings);
  preview_->restore(settings);
  // Load the last model so completion works at once; the restored settings stay as they were.
  if (!model_picker_->currentFolder().isEmpty()) {
    start_folder_ = model_picker_->currentFolder();
    loadModel(start_folder_);
  }
}

}  // namespace svgear
