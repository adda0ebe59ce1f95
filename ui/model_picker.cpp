#include "ui/model_picker.h"

#include <algorithm>
#include <filesystem>

#include <QCheckBox>
#include <QColor>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSignalBlocker>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "core/pipeline/device_info.h"
#include "core/pipeline/model_manifest.h"
#include "ui/bidi_controls.h"
#include "ui/model_summary.h"
#include "ui/text_head.h"
#include "ui/tooltip_lines.h"

namespace svgear {
namespace {

constexpr int kRecentLength = 10;

// One scan of the search roots, as the thread pool hands it back.
struct FoundModels {
  QStringList folders;
  QString default_folder;
  bool default_builtin = false;
  QStringList notes;  // $SVGEAR_MODELS entries that cannot hold models, or why the scan failed
  QList<QPair<QString, QString>> not_models;  // ModelScan::not_models: folder, why
};

FoundModels find_models() {
  FoundModels found;
  try {
    const ModelScan scan = scan_model_roots();
    for (const auto& folder : scan.folders) found.folders << QString::fromStdString(folder.string());
    if (scan.default_folder) found.default_folder = QString::fromStdString(scan.default_folder->string());
    found.default_builtin = scan.default_builtin;
    for (const std::string& note : model_search_notes()) found.notes << QString::fromStdString(note);
    for (const NotAModel& n : scan.not_models) {
      found.not_models.append({QString::fromStdString(n.folder.string()), QString::fromStdString(n.why)});
    }
  } catch (const std::exception& e) {  // thrown out of the task, it would end the studio
    found = FoundModels{};
    found.notes << QObject::tr("The search for models failed: %1").arg(QString::fromStdString(e.what()));
  }
  return found;
}

// An item's device as a load resolves it ("auto" is cuda:0 or cpu), so that a choice that changes
// nothing (Automatic to GPU 0) does not reload the model.
constexpr int kResolvedDeviceRole = Qt::UserRole + 1;
// The device box's rows before the list arrives: the chosen device, unchecked, then the CPU.
constexpr int kPlaceholderChosen = 0;
constexpr int kPlaceholderCpu = 1;

}  // namespace

// The devices a model can run on, as the thread pool lists them; the worker's load reports what it
// used.
struct ModelPicker::FoundDevices {
  QStringList gpus;  // one description per CUDA device
  QString cpu;
  QString error;     // why the GPUs could not be listed (a broken driver): the CPU is offered alone
};

ModelPicker::FoundDevices ModelPicker::findDevices() {
  FoundDevices found;
  found.cpu = QString::fromStdString(cpu_description());
  try {
    for (const std::string& gpu : cuda_device_descriptions()) found.gpus << QString::fromStdString(gpu);
  } catch (const std::exception& e) {  // thrown out of the task, it would end the studio
    found.gpus.clear();
    found.error = QString::fromStdString(e.what());
  }
  return found;
}

ModelPicker::ModelPicker(QWidget* parent)
    : QWidget(parent),
      folders_(new QComboBox(this)),
      browse_(new QToolButton(this)),
      device_(new QComboBox(this)),
      text_encoder_on_cpu_(new QCheckBox(tr("Text encoder on the CPU"), this)),
      free_text_encoder_(new QCheckBox(tr("Free it after encoding"), this)),
      vae_on_cpu_(new QCheckBox(tr("VAE on the CPU"), this)),
      idle_expert_on_cpu_(new QCheckBox(tr("Idle expert on the CPU"), this)),
      dit_fp8_(new QCheckBox(tr("Diffusion model in fp8"), this)),
      memory_boxes_{text_encoder_on_cpu_, free_text_encoder_, vae_on_cpu_, idle_expert_on_cpu_, dit_fp8_},
      memory_toggle_(new QToolButton(this)),
      memory_options_(new QWidget(this)),
      info_(new QLabel(this)) {
  setObjectName("model_picker");
  folders_->setObjectName("model_folder");
  folders_tip_ = tr("A model folder (with a model.json): recent folders and the models found in "
                    "$SVGEAR_MODELS and the built-in models' folder");
  folders_->setToolTip(folders_tip_);
  folders_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  folders_->setMinimumContentsLength(14);
  browse_->setText(tr("Browse…"));
  browse_->setToolTip(tr("Choose a model folder (Ctrl+O)"));
  device_->setObjectName("model_device");
  device_->setToolTip(tr("Where the model runs (the CLI's --device). A change reloads the model."));
  device_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  device_->setMinimumContentsLength(16);
  // Until the list arrives: the chosen device (restore() may replace it), as a placeholder, and the
  // CPU, so that a listing that never ends (a wedged driver) leaves a device to run on.
  device_->addItem(tr("Listing devices…"), "auto");
  device_->addItem(tr("CPU"), "cpu");
  device_->setItemData(kPlaceholderCpu, "cpu", kResolvedDeviceRole);
  // Wan models only: umT5-xxl takes ~11 GB of GPU memory beside the DiT, which a 16 GB card cannot
  // spare; the CLI's --text-encoder-device cpu, --free-text-encoder and --vae-device cpu.
  text_encoder_on_cpu_->setObjectName("text_encoder_on_cpu");
  text_encoder_on_cpu_->setToolTip(tr("Wan models: run umT5 on the CPU, ~11 GB less GPU memory; a new prompt "
                                      "takes longer to encode (prompts are cached). Reloads the model."));
  free_text_encoder_->setObjectName("free_text_encoder");
  free_text_encoder_->setToolTip(tr("Wan models: free umT5's weights once a generation's prompts are encoded, "
                                    "so the steps have its memory; a new prompt reloads it. Reloads the model."));
  vae_on_cpu_->setObjectName("vae_on_cpu");
  vae_on_cpu_->setToolTip(tr("Wan models: decode the final video on the CPU, in tiles (slower at full size, and "
                             "the tiles change the pixels slightly where the GPU decodes whole frames, as "
                             "upstream); the preview stays cheap. Reloads the model."));
  idle_expert_on_cpu_->setObjectName("idle_expert_on_cpu");
  idle_expert_on_cpu_->setToolTip(tr("Wan2.2-A14B (two experts) on a GPU: keep the expert not in use in host "
                                     "memory and swap the two at the boundary step, so one 14B expert (~27 GB) "
                                     "is on the GPU instead of both; each generation then moves them (about a "
                                     "second each way on an H200, from page-locked memory). Reloads the model."));
  dit_fp8_->setObjectName("dit_fp8");
  dit_fp8_->setToolTip(tr("Wan models: quantise the diffusion model's linear weights to fp8 (e4m3, a scale each) "
                          "as they load: about half its memory (14B: 13.9 GiB, not 26.6), for fp8's rounding of the "
                          "weights. fp8 files stay in fp8 without it. Reloads the model."));
  info_->setObjectName("model_info");
  info_->setWordWrap(true);
  // A word longer than the dock (a folder path in "Not loaded: …") would widen the dock and the
  // window past the screen: the label takes the width it is given, its tooltip the whole text.
  info_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  info_->setTextFormat(Qt::PlainText);
  info_->setText(tr("No model loaded."));

  auto* row = new QHBoxLayout;
  row->addWidget(folders_, 1);
  row->addWidget(browse_);
  auto* device_row = new QHBoxLayout;
  device_row->addWidget(new QLabel(tr("Runs on"), this));
  device_row->addWidget(device_, 1);
  // Titled as Wan-only, so that on a built-in model the boxes read as settings for later.
  memory_toggle_->setObjectName("wan_memory_toggle");
  memory_toggle_->setCheckable(true);
  memory_toggle_->setAutoRaise(true);
  memory_toggle_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  memory_toggle_->setToolTip(tr("Where a Wan model's parts run and how its diffusion model is stored, to fit a "
                                "smaller GPU; built-in models keep everything on one device and ignore these"));
  memory_options_->setObjectName("wan_memory");
  auto* placement = new QVBoxLayout(memory_options_);
  placement->setContentsMargins(0, 0, 0, 0);
  // One column: two had made the panel, and so the window, 50 pixels wider than a small screen holds.
  for (QCheckBox* box : memory_boxes_) placement->addWidget(box);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(row);
  layout->addLayout(device_row);
  layout->addWidget(info_);  // above the Wan-only group: what a short, scrolled panel still shows
  layout->addWidget(memory_toggle_, 0, Qt::AlignLeft);
  layout->addWidget(memory_options_);
  showMemoryOptions(false);
  // As wide folded as open: the first opening had widened the dock, and the preview with it.
  setMinimumWidth(layout->contentsMargins().left() + memory_options_->minimumSizeHint().width() +
                  layout->contentsMargins().right());
  connect(memory_toggle_, &QToolButton::toggled, this, [this](bool shown) {
    memory_opened_by_wan_ = false;
    showMemoryOptions(shown);
    if (!shown) return;
    // On a short screen the panel scrolls: the boxes just opened come into view, once laid out.
    QMetaObject::invokeMethod(this, [this] {
      for (QWidget* up = parentWidget(); up; up = up->parentWidget()) {
        if (auto* area = qobject_cast<QScrollArea*>(up)) {
          area->ensureWidgetVisible(memory_options_, 0, 0);
          // Taller than the view, Qt centres them: the first boxes come first, under their header.
          if (memory_options_->height() > area->viewport()->height()) {
            area->verticalScrollBar()->setValue(memory_options_->mapTo(area->widget(), QPoint(0, 0)).y());
          }
          return;
        }
      }
    }, Qt::QueuedConnection);
  });

  connect(browse_, &QToolButton::clicked, this, [this] { browse(); });
  connect(folders_, &QComboBox::activated, this, [this] {
    const QString folder = currentFolder();
    setCurrentFolder(folder);
    Q_EMIT folderChosen(folder);
  });
  connect(device_, &QComboBox::currentIndexChanged, this, [this] {
    absent_device_.clear();
    const QString resolved = device_->currentData(kResolvedDeviceRole).toString();
    if (resolved == resolved_device_) return;
    resolved_device_ = resolved;
    Q_EMIT deviceChanged();
  });
  for (QCheckBox* box : {text_encoder_on_cpu_, free_text_encoder_, vae_on_cpu_, dit_fp8_}) {
    connect(box, &QCheckBox::toggled, this, [this] { Q_EMIT placementChanged(); });
  }
  for (QCheckBox* box : memory_boxes_) connect(box, &QCheckBox::toggled, this, &ModelPicker::updateMemoryToggle);
  connect(idle_expert_on_cpu_, &QCheckBox::toggled, this, [this] { Q_EMIT idleExpertChanged(); });
  auto* devices = new QFutureWatcher<FoundDevices>(this);
  connect(devices, &QFutureWatcherBase::finished, this, [this, devices] {
    devices->deleteLater();
    showDevices(devices->future().takeResult());
  });
  devices->setFuture(QtConcurrent::run(findDevices));
  rescan();
}

void ModelPicker::checkListedFolders() {
  QStringList listed = recent_;
  if (!chosen_.isEmpty() && !listed.contains(chosen_)) listed << chosen_;
  const int check = ++folder_check_;  // an older check's answer is dropped
  if (listed.isEmpty()) {  // the constructor's scan, before restore(): nothing to look at
    gone_.clear();
    return;
  }
  auto* watcher = new QFutureWatcher<QStringList>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, check] {
    watcher->deleteLater();
    if (check != folder_check_) return;
    gone_ = watcher->future().takeResult();
    rebuildList(currentFolder());
  });
  watcher->setFuture(QtConcurrent::run([listed] {
    QStringList gone;
    for (const QString& folder : listed) {
      std::error_code ec;  // a folder this user may no longer read is as gone
      if (!std::filesystem::is_directory(folder.toStdString(), ec)) gone << folder;
    }
    return gone;
  }));
}

// Automatic (the CLI's default: GPU 0 when there is one), each GPU, the CPU.
void ModelPicker::showDevices(const FoundDevices& found) {
  const QString chosen = device_->currentData().toString();
  const QSignalBlocker block(device_);
  device_->clear();
  const auto add = [this](const QString& text, const QString& device, const QString& resolved, const QString& tip) {
    device_->addItem(text, device);
    device_->setItemData(device_->count() - 1, resolved, kResolvedDeviceRole);
    device_->setItemData(device_->count() - 1, tip, Qt::ToolTipRole);
  };
  if (found.gpus.empty()) {
    add(tr("Automatic (CPU)"), "auto", "cpu", found.cpu);
  } else {
    add(tr("Automatic (GPU 0)"), "auto", "cuda:0", found.gpus.front());
  }
  for (qsizetype i = 0; i < found.gpus.size(); ++i) {
    const QString device = QString("cuda:%1").arg(i);
    add(tr("GPU %1: %2").arg(i).arg(found.gpus[i]), device, device, found.gpus[i]);
  }
  add(tr("CPU"), "cpu", "cpu", found.cpu);
  if (!found.error.isEmpty()) device_->setToolTip(device_->toolTip() + "\n" + tr("No GPU listed: %1").arg(found.error));
  devices_listed_ = true;
  selectDevice(chosen);
  Q_EMIT devicesFound();
}

void ModelPicker::selectDevice(const QString& device) {
  const int index = device_->findData(device);
  device_->setCurrentIndex(std::max(0, index));
  resolved_device_ = device_->currentData(kResolvedDeviceRole).toString();
  absent_device_ = index < 0 ? device : QString();
}

ModelPlacement ModelPicker::placement() const {
  ModelPlacement p;
  p.device = device_->currentData().toString().toStdString();
  p.text_encoder_on_cpu = text_encoder_on_cpu_->isChecked();
  p.free_text_encoder = free_text_encoder_->isChecked();
  p.vae_on_cpu = vae_on_cpu_->isChecked();
  p.idle_expert_on_cpu = idle_expert_on_cpu_->isChecked();
  p.dit_fp8 = dit_fp8_->isChecked();
  return p;
}

void ModelPicker::setPlacement(const ModelPlacement& p) {
  const QSignalBlocker a(text_encoder_on_cpu_), b(free_text_encoder_), c(vae_on_cpu_), d(device_),
      e(idle_expert_on_cpu_), f(dit_fp8_);
  const QString device = QString::fromStdString(p.device);
  if (devices_listed_) {
    selectDevice(device);
  } else {
    if (device == "cpu") {
      device_->setCurrentIndex(kPlaceholderCpu);
    } else {
      device_->setItemData(kPlaceholderChosen, device);  // showDevices selects it, or Automatic
      device_->setCurrentIndex(kPlaceholderChosen);
    }
    // So that the user's move between the placeholder's two rows reloads (deviceChanged).
    resolved_device_ = device_->currentData(kResolvedDeviceRole).toString();
  }
  text_encoder_on_cpu_->setChecked(p.text_encoder_on_cpu);
  free_text_encoder_->setChecked(p.free_text_encoder);
  vae_on_cpu_->setChecked(p.vae_on_cpu);
  idle_expert_on_cpu_->setChecked(p.idle_expert_on_cpu);
  dit_fp8_->setChecked(p.dit_fp8);
  updateMemoryToggle();
}

bool ModelPicker::deviceKnown() const { return devices_listed_ || device_->currentData().toString() == "cpu"; }

QString ModelPicker::currentFolder() const { return folders_->currentData().toString(); }

void ModelPicker::setCurrentFolder(const QString& folder) {
  if (folder.isEmpty()) return;
  chosen_ = folder;
  rebuildList(folder);
}

// Only folders a model loaded from: an empty or damaged folder tried once stayed in the list, and
// in the settings, pushing real models out of its ten places.
void ModelPicker::rememberLoaded(const QString& folder) {
  recent_.removeAll(folder);
  recent_.prepend(folder);
  gone_.removeAll(folder);
  while (recent_.size() > kRecentLength) recent_.removeLast();
  rebuildList(currentFolder());
}

void ModelPicker::browse() {
  rescan();  // models added since the start show next time the list is built
  // The folder that holds the current model, where its siblings are (inside it are its weights).
  const QString holder = currentFolder().isEmpty() ? QString() : QFileInfo(currentFolder()).absolutePath();
  const QString start = !holder.isEmpty() && QFileInfo(holder).isDir() ? holder : QDir::homePath();
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Open model folder"), start);
  if (folder.isEmpty()) return;
  setCurrentFolder(folder);
  Q_EMIT folderChosen(folder);
}

void ModelPicker::showMemoryOptions(bool shown) {
  const QSignalBlocker block(memory_toggle_);
  memory_toggle_->setChecked(shown);
  memory_options_->setVisible(shown);
  updateMemoryToggle();
}

void ModelPicker::updateMemoryToggle() {
  memory_toggle_->setArrowType(memory_toggle_->isChecked() ? Qt::DownArrow : Qt::RightArrow);
  const auto on =
      std::count_if(memory_boxes_.begin(), memory_boxes_.end(), [](const QCheckBox* box) { return box->isChecked(); });
  memory_toggle_->setText(memory_toggle_->isChecked() || on == 0
                              ? tr("Wan models: memory")
                              : tr("Wan models: memory (%1 of %2 on)").arg(on).arg(memory_boxes_.size()));
}

namespace {

// A model's name or description as the panel shows it: from the user's model.json, so its
// bidirectional controls are shown as codes (one had mirrored the panel's lines), and a run of
// more than 30 characters without a space gets places to wrap (2,000 x's ran past the panel's edge).
QString shown_model_text(const QString& text) {
  constexpr int kLongestRun = 30;
  QString out;
  int run = 0;
  for (const QChar c : bidi_controls_shown(text)) {
    run = c.isSpace() ? 0 : run + 1;
    if (run > kLongestRun && !c.isLowSurrogate()) {
      out += QChar(0x200B);  // zero width space: a line may break here
      run = 1;
    }
    out += c;
  }
  return out;
}

}  // namespace

void ModelPicker::showModel(const ModelSummary& m) {
  rememberLoaded(m.folder);
  // A Wan model: the boxes are its. A built-in model after it folds them again, unless they were
  // opened by hand (they had stayed open, 100 px of a short screen for boxes it ignores).
  if (!m.placement.isEmpty()) {
    if (!memory_toggle_->isChecked()) memory_opened_by_wan_ = true;
    showMemoryOptions(true);
  } else if (memory_opened_by_wan_) {
    memory_opened_by_wan_ = false;
    showMemoryOptions(false);
  }
  QString text = tr("%1 on %2 — %3").arg(shown_model_text(m.name), m.device, shown_model_text(m.description));
  if (!m.placement.isEmpty()) text += "\n" + m.placement;
  if (!m.vocabulary.isEmpty()) text += tr("\nVocabulary: %1 words, completed as you type").arg(m.vocabulary.size());
  info_->setText(text);
  info_->setToolTip(m.vocabulary.join(' '));
}

void ModelPicker::showLoading(const QString& folder) {
  info_->setText(tr("Loading %1…").arg(QDir(folder).dirName()));
  info_->setToolTip(tooltip_lines(folder));
}

void ModelPicker::showLoadProgress(const QString& folder, const QString& progress) {
  info_->setText(tr("Loading %1… %2").arg(QDir(folder).dirName(), progress));
  info_->setToolTip(tooltip_lines(folder));
}

void ModelPicker::showError(const QString& message) {
  info_->setText(tr("Not loaded: %1").arg(message));
  info_->setToolTip(tooltip_lines(message));
}

void ModelPicker::showRefused(const QString& message) {
  // A panel's worth under the summary: a message naming a long path whole had made the panel
  // scroll. All of it is in the tooltip, and in the Log.
  const QString shown = text_head(message, 300, tr("… (the tooltip has all of it)"));
  info_->setText(info_->text() + "\n" + tr("Not loaded: %1").arg(shown));
  info_->setToolTip(tooltip_lines(message));
}

void ModelPicker::rescan() {
  folders_->setPlaceholderText(tr("Looking for models…"));
  checkListedFolders();
  if (scanning_) {  // the scan under way may have read the roots already: one more follows it
    rescan_pending_ = true;
    return;
  }
  scanning_ = true;
  auto* watcher = new QFutureWatcher<FoundModels>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
    watcher->deleteLater();
    const FoundModels found = watcher->future().takeResult();
    scanning_ = false;
    found_ = found.folders;
    not_models_ = found.not_models;
    default_ = found.default_folder;
    default_builtin_ = found.default_builtin;
    // An SVGEAR_MODELS entry that holds no models is named here rather than skipped without a word.
    folders_->setToolTip(found.notes.isEmpty() ? folders_tip_ : folders_tip_ + "\n" + found.notes.join('\n'));
    folders_->setPlaceholderText(tr("No models found: Browse… for a model folder"));
    const bool choose_default = awaitsDefault() && !default_.isEmpty();
    default_pending_ = false;
    // A recent folder once it loads, so the next start loads it before its own scan ends.
    if (choose_default) {
      setCurrentFolder(default_);
    } else {
      rebuildList(currentFolder());
    }
    Q_EMIT scanned();
    if (choose_default) Q_EMIT defaultFound(default_);
    if (rescan_pending_) {
      rescan_pending_ = false;
      rescan();
    }
  });
  watcher->setFuture(QtConcurrent::run(find_models));
}

void ModelPicker::rebuildList(const QString& select) {
  const QSignalBlocker block(folders_);
  folders_->clear();
  QStringList all = recent_;
  if (!chosen_.isEmpty() && !all.contains(chosen_)) all.prepend(chosen_);  // shown while it loads, or why it did not
  for (const QString& f : found_) {
    if (!all.contains(f)) all << f;
  }
  for (const QString& f : all) {
    const bool gone = gone_.contains(f);
    folders_->addItem(QDir(f).dirName() + "  —  " + f + (gone ? tr("  (gone)") : QString()), f);
    if (!gone) continue;
    // Still listed (it may come back: a disk mounted again), but not passed off as a model.
    const int row = folders_->count() - 1;
    folders_->setItemData(row, QColor(140, 140, 140), Qt::ForegroundRole);
    folders_->setItemData(row, tr("%1 is not there any more (moved, deleted or not mounted): choosing it says why "
                                  "no model loads")
                                   .arg(f),
                          Qt::ToolTipRole);
  }
  const int models = folders_->count();
  for (const auto& [f, why] : not_models_) {
    if (all.contains(f)) continue;  // chosen (its load said why) or once loaded
    folders_->addItem(QDir(f).dirName() + "  —  " + f + tr("  (not a model)"), f);
    const int row = folders_->count() - 1;
    folders_->setItemData(row, QColor(140, 140, 140), Qt::ForegroundRole);
    folders_->setItemData(row, tooltip_lines(why), Qt::ToolTipRole);
  }
  int index = folders_->findData(select);
  if (index < 0) index = folders_->findData(default_);  // nothing chosen yet: the scan's default
  // Never a folder that is no model by default: with none to take, the list shows its placeholder.
  if (index < 0) index = models > 0 ? 0 : -1;
  folders_->setCurrentIndex(index);
}

void ModelPicker::save(QSettings& settings) const {
  settings.setValue("model/recent", recent_);
  settings.setValue("model/folder", currentFolder());
  const ModelPlacement p = placement();
  settings.setValue("model/device", absent_device_.isEmpty() ? QString::fromStdString(p.device) : absent_device_);
  settings.setValue("model/text_encoder_on_cpu", p.text_encoder_on_cpu);
  settings.setValue("model/free_text_encoder", p.free_text_encoder);
  settings.setValue("model/vae_on_cpu", p.vae_on_cpu);
  settings.setValue("model/idle_expert_on_cpu", p.idle_expert_on_cpu);
  settings.setValue("model/dit_fp8", p.dit_fp8);
  settings.setValue("model/wan_memory_shown", memory_toggle_->isChecked());
}

void ModelPicker::restore(const QSettings& settings) {
  recent_ = settings.value("model/recent").toStringList().mid(0, kRecentLength);  // a hand-edited file's too
  // The saved folder heads the list even when it is not among the recent ones (saved by an older
  // version, which found it by scanning before the window showed).
  const QString folder = settings.value("model/folder").toString();
  if (folder.isEmpty()) {
    rebuildList(QString());
  } else {
    setCurrentFolder(folder);
  }
  checkListedFolders();  // the start's scan began before these were known
  ModelPlacement p;
  const QString device = settings.value("model/device", "auto").toString();
  p.device = device.toStdString();
  p.text_encoder_on_cpu = settings.value("model/text_encoder_on_cpu", false).toBool();
  p.free_text_encoder = settings.value("model/free_text_encoder", false).toBool();
  p.vae_on_cpu = settings.value("model/vae_on_cpu", false).toBool();
  p.idle_expert_on_cpu = settings.value("model/idle_expert_on_cpu", false).toBool();
  p.dit_fp8 = settings.value("model/dit_fp8", false).toBool();
  setPlacement(p);
  showMemoryOptions(settings.value("model/wan_memory_shown", false).toBool());
}

}  // namespace svgear
