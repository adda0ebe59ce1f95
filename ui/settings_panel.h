#pragma once
// SettingsPanel: the generation settings — size, frames, steps, guidance, shift, seed (random or
// locked), attention mode and the SVG2 / SVG-EAR knobs, with the Quality / Balanced / Fast presets
// of core/attention/attention_preset.h.

#include <QStringList>
#include <QWidget>

#include "core/attention/attention_config.h"
#include "ui/studio_request.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QGroupBox;
class QSettings;
class QSpinBox;

namespace svgear {

struct ModelSummary;

class SettingsPanel : public QWidget {
  Q_OBJECT

 public:
  explicit SettingsPanel(QWidget* parent);

  // Takes what is typed in a box that still has the focus, as leaving it would: a run started by a
  // shortcut or a toolbar button (which takes no focus) read the box's last value, not its text.
  void commitTypedValues();
  // Draws a new random seed into the seed box unless the seed is locked.
  void rollSeedUnlessLocked();
  int seed() const;
  void setSeed(int seed);  // the box's, lock as it is
  // The generation fields of a request (everything but the model and the prompts).
  StudioRequest request() const;
  // The shown knobs; the fields the panel does not show (gamma, min_kc_ratio, the k-means
  // iterations, kmeans_in_warmup) as the last setAttention gave them, the spec's at first.
  AttentionConfig attention() const;
  void setAttention(const AttentionConfig& config);
  // Every generation field of `request` (a library entry being reloaded), with its seed locked.
  // Returns the fields the boxes could not hold exactly (outside their range or finer than their
  // decimals), as "top_p 0.8765 (now 0.877)": a run from the panel would differ from the request.
  // A cluster count the run's tokens capped keeps the box's value when that is no smaller.
  QStringList setRequest(const StudioRequest& request);
  // Size, frames, steps, guidance and shift from the model's defaults. Returns those that changed,
  // as "832×480 (was 64×64)" and "steps 50 (was 4)", for the Log: a model chosen replaces them.
  QStringList applyModelDefaults(const ModelSummary& model);
  // Shows the low-noise guidance (and calls the guidance the high-noise one's) for a model with two
  // experts, Wan2.2-A14B; hides it for a model with one DiT, whose requests then leave it unset.
  void showModelExperts(const ModelSummary& model);
  // The width and height boxes step along the sides the model takes (multiples of its patch times
  // its VAE's stride), from the least of them; the frames box along the counts it takes
  // (a Wan model's 1, 5, 9, …).
  void fitVideoToModel(const ModelSummary& model);

  void save(QSettings& settings) const;
  void restore(const QSettings& settings);

 Q_SIGNALS:
  // The user changed the size, frames, steps, a guidance or the shift: what a model's defaults set.
  // Not for setRequest, applyModelDefaults or restore.
  void sizesEdited();
  // For the status line and the Log: a number typed that a box cannot hold was set to the nearest it
  // can ("Height: 1 is below the smallest value, 8: set to 8"), or a typed seed was locked.
  void noted(const QString& note);

 private:
  void applyPreset(int index);
  void syncAttentionControls();

  QSpinBox* width_;
  QSpinBox* height_;
  QSpinBox* frames_;
  QSpinBox* steps_;
  QDoubleSpinBox* guidance_;
  QDoubleSpinBox* low_noise_guidance_;
  QFormLayout* sampling_form_;
  bool two_experts_ = false;
  QDoubleSpinBox* shift_;
  QSpinBox* seed_;
  QCheckBox* seed_locked_;
  QCheckBox* noise_on_device_;
  QCheckBox* all_cores_;
  QComboBox* mode_;
  QComboBox* preset_;
  QGroupBox* sparse_;
  QDoubleSpinBox* top_p_;
  QSpinBox* q_clusters_;
  QSpinBox* k_clusters_;
  QDoubleSpinBox* guaranteed_ratio_;
  QDoubleSpinBox* dense_warmup_steps_;
  QDoubleSpinBox* dense_layers_;
  AttentionConfig hidden_;  // supplies attention()'s fields without a box
  bool setting_ = false;    // the panel fills its boxes itself: sizesEdited stays quiet
};

}  // namespace svgear
