#pragma once
// ModelPicker: chooses the model folder — the models the engine finds ($SVGEAR_MODELS, the
// built-in ones) and recently used folders in one list, plus a folder chooser — the device a model
// runs on, where a Wan model's text encoder and VAE run (to fit a smaller GPU), and shows what the
// worker reported about the loaded model.

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
  // Selects `folder` (adding it to the recent list) without emitting folderChosen.
  void setCurrentFolder(const QString& folder);
  QStringList recentFolders() const { return recent_; }
  // Opens the folder chooser (File ▸ Open model folder…).
  void browse();
  ModelPlacement placement() const;
  // Sets the device and the boxes without emitting deviceChanged or placementChanged; a device this
  // machine lacks (a saved cuda:1 without that GPU) selects Automatic.
  void setPlacement(const ModelPlacement& placement);

  void showModel(const ModelSummary& summary);
  void showError(const QString& message);
  void showLoading(const QString& folder);  // until showModel or showError: the old model is gone

  void save(QSettings& settings) const;
  void restore(const QSettings& settings);

 Q_SIGNALS:
  // The user picked a folder, from the list or the chooser.
  void folderChosen(const QString& folder);
  // The user chose a device that a load resolves differently (not Automatic to GPU 0); it applies
  // to any model.
  void deviceChanged();
  // The user changed where a Wan model's text encoder or VAE runs (it applies when a model loads).
  void placementChanged();

 private:
  void rescan();  // found_ and default_, from one scan of the search roots
  void rebuildList(const QString& select);

  QComboBox* folders_;
  QToolButton* browse_;
  QComboBox* device_;
  QString resolved_device_;  // the chosen device as a load resolves it (cuda:0 for Automatic on a GPU)
  // A restored device this machine lacks ("cuda:1" on a one-GPU machine): saved back unchanged
  // unless the user picks another, so the choice holds on the machine that has it.
  QString absent_device_;
  QCheckBox* text_encoder_on_cpu_;
  QCheckBox* free_text_encoder_;
  QCheckBox* vae_on_cpu_;
  QLabel* info_;
  QStringList recent_;  // most recent first
  // The model folders under the search roots: scanned at start and on Browse, not on every choice
  // (a Wan folder's scan reads its safetensors headers).
  QStringList found_;  // the model folders under the search roots, at the last rescan
  QString default_;    // the CLI's default among them
};

}  // namespace svgear
