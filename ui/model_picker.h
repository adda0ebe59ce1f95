#pragma once
// ModelPicker: chooses the model folder — the models the engine finds ($SVGEAR_MODELS, the
// built-in ones; found off the GUI thread) and recently used folders in one list, plus a folder
// chooser — the device a model runs on (listed off the GUI thread too), where a Wan model's text
// encoder and VAE run (to fit a smaller GPU), and shows what the worker reported about the loaded
// model.

#include <array>

#include <QList>
#include <QPair>
#include <QStringList>
#include <QWidget>

#include "ui/studio_request.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSettings;
class QToolButton;

namespace svgear {

struct ModelSummary;

class ModelPicker : public QWidget {
  Q_OBJECT

 public:
  explicit ModelPicker(QWidget* parent);

  QString currentFolder() const;
  // The folders the last scan found that hold a Wan diffusion model but are no model: folder, why.
  // Without --model the CLI refuses the built-in default beside one; the first start loads it and
  // says why that folder did not.
  const QList<QPair<QString, QString>>& notModels() const { return not_models_; }
  bool defaultIsBuiltin() const { return default_builtin_; }
  QString defaultFolder() const { return default_; }  // the model the CLI would use; empty until a scan ends
  // Selects `folder` without emitting folderChosen; it joins the recent list once a model loads
  // from it (showModel).
  void setCurrentFolder(const QString& folder);
  QStringList recentFolders() const { return recent_; }
  // Opens the folder chooser (File ▸ Open model folder…).
  void browse();
  ModelPlacement placement() const;
  // Sets the device and the boxes without emitting deviceChanged or placementChanged. Once the
  // device list is in, a device this machine lacks (a saved cuda:1 without that GPU) selects
  // Automatic and is saved back unchanged; before, the device is only held for the list to check.
  void setPlacement(const ModelPlacement& placement);
  // The machine's devices are listed on the thread pool when the picker is built (listing the GPUs
  // initialises CUDA, seconds on some machines, for ever on a wedged driver). Until then the device
  // box offers the chosen device, unchecked, and the CPU, which needs no list.
  bool hasDeviceList() const { return devices_listed_; }
  // Whether placement() names a device of this machine: the list is in, or the CPU is chosen. Until
  // then loads and runs wait (devicesFound), since the device may be a GPU this machine lacks.
  bool deviceKnown() const;

  void showModel(const ModelSummary& summary);  // and its folder joins the recent list
  void showError(const QString& message);
  // Under the model shown (showModel), why a folder chosen after it did not load: the first 300
  // characters, all of it in the tooltip.
  void showRefused(const QString& message);
  void showLoading(const QString& folder);  // until showModel or showError: the old model is gone
  // "Loading <folder>… <progress>" (a Wan model's part and how much of it is read); `folder`: the
  // one loading, which a run's own load did not show with showLoading.
  void showLoadProgress(const QString& folder, const QString& progress);

  void save(QSettings& settings) const;
  void restore(const QSettings& settings);

  // Looks for models under the search roots again, on the thread pool: a scan opens every Wan
  // folder's weight headers, which on a network mount takes long enough to freeze a window. The
  // list shows what a scan found when it ends (scanned()). Runs at start and on Browse. One scan at
  // a time: a rescan asked for during one (however many) is a single scan after it, since each
  // holds one of the pool's threads, which library and trace reads wait for.
  void rescan();
  bool isScanning() const { return scanning_; }
  // No folder chosen or restored, and the first scan, which may choose the default, still running.
  bool awaitsDefault() const { return default_pending_ && currentFolder().isEmpty(); }
  // The window is closing: a scan that ends later chooses nothing (no load after the close).
  void forgoDefault() { default_pending_ = false; }

 Q_SIGNALS:
  // The user picked a folder, from the list or the chooser.
  void folderChosen(const QString& folder);
  // The user chose a device that a load resolves differently (not Automatic to GPU 0); it applies
  // to any model.
  void deviceChanged();
  // The user changed where a Wan model's text encoder or VAE runs, or the DiT's fp8 (it applies when
  // a model loads).
  void placementChanged();
  // The user ticked or cleared Idle expert on the CPU (Wan2.2-A14B's experts on a GPU).
  void idleExpertChanged();
  // A rescan ended: the list holds the models it found.
  void scanned();
  // The device list arrived (hasDeviceList): placement() names a device of this machine.
  void devicesFound();
  // The first scan ended with no folder chosen or restored: `folder`, the model the CLI would use,
  // is now chosen (a recent folder once the window has loaded it).
  void defaultFound(const QString& folder);

 private:
  struct FoundDevices;  // the device list as the thread pool reads it
  static FoundDevices findDevices();
  void rebuildList(const QString& select);
  void rememberLoaded(const QString& folder);
  // Which listed folders other than the scan's are gone (moved, deleted, an unmounted disk), looked
  // at on the thread pool (a stat on a dead network mount can hang); the list marks them.
  void checkListedFolders();
  void showDevices(const FoundDevices& found);
  // Selects `device` in the device box: Automatic, remembered as absent_device_, when it lacks it.
  void selectDevice(const QString& device);
  void showMemoryOptions(bool shown);
  void updateMemoryToggle();  // its arrow, and its count of the boxes that are on

  QComboBox* folders_;
  QToolButton* browse_;
  QComboBox* device_;
  bool devices_listed_ = false;
  QString resolved_device_;  // the chosen device as a load resolves it (cuda:0 for Automatic on a GPU)
  // A restored device this machine lacks ("cuda:1" on a one-GPU machine): saved back unchanged
  // unless the user picks another, so the choice holds on the machine that has it.
  QString absent_device_;
  QCheckBox* text_encoder_on_cpu_;
  QCheckBox* free_text_encoder_;
  QCheckBox* vae_on_cpu_;
  QCheckBox* idle_expert_on_cpu_;
  QCheckBox* dit_fp8_;
  // The five boxes fold under one header: on a built-in model they are settings for later, and
  // their 100 px had cut the summary above them on a short screen. Open while a Wan model is shown
  // and whenever the artist opens it; closed, the header counts the boxes that are on.
  std::array<QCheckBox*, 5> memory_boxes_;  // the five above, for what they share
  QToolButton* memory_toggle_;
  QWidget* memory_options_;
  bool memory_opened_by_wan_ = false;  // by a Wan model's load, not by hand: a built-in one folds them
  QLabel* info_;
  QStringList recent_;  // folders models loaded from, most recent first
  QString chosen_;      // the folder chosen last, listed whether or not it loaded
  // The model folders under the search roots: scanned at start and on Browse, not on every choice
  // (a Wan folder's scan reads its safetensors headers).
  QStringList found_;  // the model folders under the search roots, at the last rescan
  // Folders under them that hold a Wan diffusion model but are no model (NotAModel), with why:
  // listed greyed at the end, so a download missing a part is not left out without a word.
  QList<QPair<QString, QString>> not_models_;
  QString default_;    // the scan's default among them (the CLI's, unless it refuses: see notModels)
  bool default_builtin_ = false;
  QStringList gone_;   // recent or chosen folders that were not there at the last check
  int folder_check_ = 0;  // the latest checkListedFolders(): an older one's answer is dropped
  QString folders_tip_;  // the list's tooltip without the scan's notes on $SVGEAR_MODELS
  bool scanning_ = false;
  bool rescan_pending_ = false;  // a rescan was asked for during the scan under way
  bool default_pending_ = true;  // until the first scan ends (awaitsDefault)
};

}  // namespace svgear
