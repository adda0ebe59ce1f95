#include "ui/settings_panel.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <thread>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRandomGenerator>
#include <QScopedValueRollback>
#include <QSettings>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/attention/attention_preset.h"
#include "core/attention/sparse_schedule.h"
#include "core/pipeline/request_limits.h"
#include "ui/clamping_spin_box.h"
#include "ui/model_summary.h"

namespace svgear {
namespace {

struct PresetItem {
  const char* label;
  const char* name;  // for named_attention_preset
};
const PresetItem kPresets[] = {{"Quality", "quality"}, {"Balanced", "balanced"}, {"Fast", "fast"}};

// The box's name as the panel shows it: its accessible name, or its form label's text. The status
// line and the Log say which box a note is about ("Frames: 0 is below …"); its tooltip sits under it.
QString shown_name(QAbstractSpinBox* box) {
  if (!box->accessibleName().isEmpty()) return box->accessibleName();
  const auto* form = box->parentWidget() ? qobject_cast<QFormLayout*>(box->parentWidget()->layout()) : nullptr;
  const auto* label = form ? qobject_cast<QLabel*>(form->labelForField(box)) : nullptr;
  return label ? label->text().remove('&') : QString();
}

void say_note_by_name(SettingsPanel* panel, QAbstractSpinBox* box, const QString& note) {
  const QString name = shown_name(box);
  Q_EMIT panel->noted(name.isEmpty() ? note : name + ": " + note);
}

QSpinBox* spin_box(SettingsPanel* panel, QWidget* parent, const char* name, int lo, int hi, int step,
                   const QString& tip) {
  auto* box = new ClampingSpinBox(parent);
  box->setOnClamped([panel, box](const QString& note) { say_note_by_name(panel, box, note); });
  box->setObjectName(name);
  box->setRange(lo, hi);
  box->setSingleStep(step);
  box->setToolTip(tip);
  return box;
}

QDoubleSpinBox* double_box(SettingsPanel* panel, QWidget* parent, const char* name, double lo, double hi,
                           double step, int decimals, const QString& tip) {
  auto* box = new ClampingDoubleSpinBox(parent);
  box->setOnClamped([panel, box](const QString& note) { say_note_by_name(panel, box, note); });
  box->setObjectName(name);
  box->setRange(lo, hi);
  box->setSingleStep(step);
  box->setDecimals(decimals);
  box->setToolTip(tip);
  return box;
}

bool near(double x, double y) { return std::abs(x - y) < 1e-9; }

// A Q_C equal to its frame size's count shows Auto (0): a reopened run, or settings saved before
// Auto existed (whose 200 was the old default), then read as the preset they ran with, not Custom,
// and follow the size. The same size gives the same count, so the run is unchanged.
AttentionConfig with_auto_q_clusters(AttentionConfig c, int height, int width) {
  if (c.q_clusters == default_q_clusters(height, width)) c.q_clusters = 0;
  return c;
}

// Every field: a reloaded run with the Balanced knobs but another gamma is Custom.
bool same_config(const AttentionConfig& a, const AttentionConfig& b) {
  return a.mode == b.mode && a.q_clusters == b.q_clusters && a.k_clusters == b.k_clusters &&
         near(a.top_p, b.top_p) && near(a.guaranteed_ratio, b.guaranteed_ratio) &&
         near(a.dense_warmup_steps, b.dense_warmup_steps) && near(a.dense_layers, b.dense_layers) &&
         near(a.min_kc_ratio, b.min_kc_ratio) && near(a.gamma, b.gamma) &&
         a.kmeans_init_iters == b.kmeans_init_iters && a.kmeans_step_iters == b.kmeans_step_iters &&
         a.kmeans_in_warmup == b.kmeans_in_warmup;
}

}  // namespace

SettingsPanel::SettingsPanel(QWidget* parent) : QWidget(parent) {
  // video
  auto* video = new QGroupBox(tr("Video"), this);
  width_ = spin_box(this, video, "width", 8, kMaxSidePixels, 8, tr("Width in pixels; must be a multiple of the model's patch"));
  height_ = spin_box(this, video, "height", 8, kMaxSidePixels, 8, tr("Height in pixels; must be a multiple of the model's patch"));
  frames_ = spin_box(this, video, "frames", 1, kMaxFrames, 1,
                     tr("Number of frames; the arrows step along the counts the model makes "
                        "(a Wan model's 1, 5, 9, …)"));
  // The form labels its rows, but a row of two boxes (and the seed's) names neither for a screen
  // reader: they get names of their own.
  width_->setAccessibleName(tr("Width"));
  height_->setAccessibleName(tr("Height"));
  auto* size_row = new QHBoxLayout;
  size_row->addWidget(width_);
  size_row->addWidget(height_);
  auto* video_form = new QFormLayout(video);
  video_form->addRow(tr("Width × height"), size_row);
  video_form->addRow(tr("Frames"), frames_);

  // sampling
  auto* sampling = new QGroupBox(tr("Sampling"), this);
  steps_ = spin_box(this, sampling, "steps", 1, kMaxSteps, 1, tr("Sampling steps: more is slower and cleaner"));
  guidance_ = double_box(this, sampling, "guidance", 1.0, kMaxGuidance, 0.5, 2,
                         tr("Classifier-free guidance scale; 1 skips the unconditional pass (twice as fast)"));
  low_noise_guidance_ = double_box(this, sampling, "low_noise_guidance", 1.0, kMaxGuidance, 0.5, 2,
                                   tr("Guidance of the low-noise expert's steps (Wan2.2-A14B runs two diffusion "
                                      "models: one for the noisy first steps, one for the rest); 1 skips their "
                                      "unconditional pass"));
  shift_ = double_box(this, sampling, "shift", 0.1, kMaxShift, 0.5, 2,
                      tr("Timestep shift of the flow schedule: higher spends more steps at high noise"));
  seed_ = spin_box(this, sampling, "seed", 0, INT_MAX, 1, tr("The noise seed: the same seed and settings give the same video"));
  seed_locked_ = new QCheckBox(tr("Lock"), sampling);
  seed_locked_->setObjectName("seed_locked");
  seed_locked_->setToolTip(tr("Keep this seed; unlocked, every generation draws a new one"));
  auto* roll = new QToolButton(sampling);
  roll->setText(tr("New"));
  roll->setToolTip(tr("Draw a random seed now"));
  seed_->setAccessibleName(tr("Seed"));
  auto* seed_row = new QHBoxLayout;
  seed_row->addWidget(seed_, 1);
  seed_row->addWidget(seed_locked_);
  seed_row->addWidget(roll);
  // A seed typed by hand is the one wanted: Lock ticks, so Generate does not draw another over it
  // (not for a sign alone, which is no seed yet).
  auto* seed_text = seed_->findChild<QLineEdit*>();
  connect(seed_text, &QLineEdit::textEdited, this, [this, seed_text] {
    if (seed_locked_->isChecked() || !seed_text->hasAcceptableInput()) return;
    seed_locked_->setChecked(true);
    Q_EMIT noted(tr("Seed: locked, so Generate uses the seed typed (untick Lock for a new seed each run)"));
  });
  sampling_form_ = new QFormLayout(sampling);
  sampling_form_->addRow(tr("Steps"), steps_);
  sampling_form_->addRow(tr("Guidance"), guidance_);
  sampling_form_->addRow(tr("Guidance, low noise"), low_noise_guidance_);
  sampling_form_->addRow(tr("Shift"), shift_);
  sampling_form_->addRow(tr("Seed"), seed_row);
  noise_on_device_ = new QCheckBox(tr("Noise from the GPU, as Wan does"), sampling);
  noise_on_device_->setObjectName("noise_on_device");
  noise_on_device_->setToolTip(tr("Draw the seed's noise with the GPU's own generator, as Wan's generate.py does, so "
                                  "a seed starts from upstream's noise on the same kind of GPU. Off: drawn on the "
                                  "CPU, the same video for a seed on every device. No effect on the CPU."));
  sampling_form_->addRow(QString(), noise_on_device_);
  sampling_form_->setRowVisible(low_noise_guidance_, false);

  // attention
  auto* attention = new QGroupBox(tr("Attention"), this);
  mode_ = new QComboBox(attention);
  mode_->setObjectName("attention_mode");
  mode_->setToolTip(tr("dense: exact attention. svg2: semantic clusters, top-p blocks, the rest skipped. "
                       "svgear: SVG2's routing plus centroid compensation of skipped blocks, routed by "
                       "estimated error."));
  for (AttentionMode m : {AttentionMode::Dense, AttentionMode::Svg2, AttentionMode::SvgEar}) {
    mode_->addItem(attention_mode_name(m), int(m));
  }
  preset_ = new QComboBox(attention);
  preset_->setObjectName("attention_preset");
  preset_->setToolTip(tr("Quality: top-p 0.95, 25% dense steps. Balanced: the spec's defaults (0.9, 20%). "
                         "Fast: 0.8, 15%. Editing a knob makes it Custom. Choosing one in dense mode switches to SVG-EAR."));
  preset_->addItem(tr("Custom"));
  // Dense attention has no budget: none of the presets, nor a custom one, describes it. Choosing a
  // preset there turns SVG-EAR on.
  preset_->setPlaceholderText(tr("None: dense"));
  for (const PresetItem& p : kPresets) preset_->addItem(tr(p.label), QString(p.name));
  sparse_ = new QGroupBox(tr("SVG2 / SVG-EAR"), attention);
  top_p_ = double_box(this, sparse_, "top_p", 0.01, 1.0, 0.05, 3,
                      tr("Budget (top-p): each query cluster computes exactly the key clusters holding this "
                         "share of its attention mass; the rest are compensated by their centroids (SVG-EAR) "
                         "or skipped (SVG2). Lower is faster and less faithful. Spec default 0.9."));
  q_clusters_ = spin_box(this, sparse_, "q_clusters", 0, 8192, 10,
                         tr("Query clusters (Q_C): k-means clusters of the query tokens per head; routing "
                            "decides per (query cluster, key cluster) block. Auto: the reference's choice for "
                            "the frame size, 200 up to 832×480, 300 above (its 720p scripts)."));
  q_clusters_->setSpecialValueText(tr("auto"));  // 0: default_q_clusters of the run's size
  k_clusters_ = spin_box(this, sparse_, "k_clusters", 1, 16384, 50,
                         tr("Key clusters (K_C): k-means clusters of the key tokens per head. More clusters "
                            "mean finer blocks and better centroids, and more k-means time. Spec default 1000."));
  guaranteed_ratio_ = double_box(this, sparse_, "guaranteed_ratio", 0.0, 0.5, 0.01, 3,
                                 tr("Guaranteed ratio (r), SVG-EAR only: the share of the budget given to the "
                                    "blocks with the largest estimated compensation error, whatever their "
                                    "attention mass. Spec default 0.05."));
  dense_warmup_steps_ = double_box(this, sparse_, "dense_warmup_steps", 0.0, 1.0, 0.05, 3,
                                   tr("Dense warm-up steps: the fraction of the first sampling steps that run "
                                      "dense attention while the layout forms, rounded down as the reference "
                                      "does (0.2 of 4 steps is none: the count in brackets). Spec default 0.2."));
  dense_layers_ = double_box(this, sparse_, "dense_layers", 0.0, 1.0, 0.01, 3,
                             tr("Dense layers: the fraction of the DiT's layers always run dense (at least one "
                                "layer). Spec default 0.03."));
  // Fractions, not counts: "0.200" beside "Dense warm-up steps" read as a fifth of one step. The
  // warm-up's count follows it, since a short run rounds it to none; as a suffix set rewrites the
  // text, the value changes only once typed in (at each keystroke, "0.15" had become 0, then 1).
  dense_layers_->setSuffix(tr(" of the layers"));
  dense_warmup_steps_->setKeyboardTracking(false);
  const auto count_warmup_steps = [this] {
    dense_warmup_steps_->setSuffix(tr(" of the steps (%1 of %2)")
                                       .arg(dense_step_count(dense_warmup_steps_->value(), steps_->value()))
                                       .arg(steps_->value()));
  };
  connect(dense_warmup_steps_, &QDoubleSpinBox::valueChanged, this, count_warmup_steps);
  connect(steps_, &QSpinBox::valueChanged, this, count_warmup_steps);
  count_warmup_steps();
  auto* sparse_form = new QFormLayout(sparse_);
  sparse_form->addRow(tr("Budget top-p"), top_p_);
  sparse_form->addRow(tr("Query clusters"), q_clusters_);
  sparse_form->addRow(tr("Key clusters"), k_clusters_);
  sparse_form->addRow(tr("Guaranteed ratio"), guaranteed_ratio_);
  sparse_form->addRow(tr("Dense warm-up"), dense_warmup_steps_);
  sparse_form->addRow(tr("Dense layers"), dense_layers_);
  auto* attention_form = new QFormLayout;
  attention_form->addRow(tr("Mode"), mode_);
  attention_form->addRow(tr("Preset"), preset_);
  auto* attention_layout = new QVBoxLayout(attention);
  attention_layout->addLayout(attention_form);
  attention_layout->addWidget(sparse_);

  // performance
  auto* performance = new QGroupBox(tr("Performance"), this);
  all_cores_ = new QCheckBox(tr("Use every CPU core"), performance);
  all_cores_->setObjectName("all_cores");
  all_cores_->setToolTip(tr("On a CPU model, compute on every core (twice as fast on two cores). Off, one "
                            "core stays with the window: for a machine busy with other work, where the "
                            "window may otherwise respond late while a step runs."));
  all_cores_->setChecked(true);
  auto* performance_layout = new QVBoxLayout(performance);
  performance_layout->addWidget(all_cores_);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(video);
  layout->addWidget(sampling);
  layout->addWidget(attention);
  layout->addWidget(performance);
  layout->addStretch(1);

  const AttentionConfig defaults;
  setAttention(defaults);
  width_->setValue(64);
  height_->setValue(64);
  frames_->setValue(16);
  steps_->setValue(20);
  guidance_->setValue(5.0);
  low_noise_guidance_->setValue(3.0);
  shift_->setValue(5.0);
  seed_->setValue(42);

  for (QSpinBox* box : {width_, height_, frames_, steps_}) {
    connect(box, &QSpinBox::valueChanged, this, [this] {
      if (!setting_) Q_EMIT sizesEdited();
    });
  }
  for (QDoubleSpinBox* box : {guidance_, low_noise_guidance_, shift_}) {
    connect(box, &QDoubleSpinBox::valueChanged, this, [this] {
      if (!setting_) Q_EMIT sizesEdited();
    });
  }
  connect(roll, &QToolButton::clicked, this, [this] { seed_->setValue(QRandomGenerator::global()->bounded(INT_MAX)); });
  connect(preset_, &QComboBox::activated, this, [this](int index) { applyPreset(index); });
  connect(mode_, &QComboBox::currentIndexChanged, this, [this] { syncAttentionControls(); });
  for (QSpinBox* box : {q_clusters_, k_clusters_}) {
    connect(box, &QSpinBox::valueChanged, this, [this] { syncAttentionControls(); });
  }
  for (QDoubleSpinBox* box : {top_p_, guaranteed_ratio_, dense_warmup_steps_, dense_layers_}) {
    connect(box, &QDoubleSpinBox::valueChanged, this, [this] { syncAttentionControls(); });
  }
}

void SettingsPanel::commitTypedValues() {
  for (QAbstractSpinBox* box : findChildren<QAbstractSpinBox*>()) box->interpretText();
}

void SettingsPanel::rollSeedUnlessLocked() {
  if (!seed_locked_->isChecked()) seed_->setValue(QRandomGenerator::global()->bounded(INT_MAX));
}

int SettingsPanel::seed() const { return seed_->value(); }

void SettingsPanel::setSeed(int seed) { seed_->setValue(seed); }

StudioRequest SettingsPanel::request() const {
  StudioRequest r;
  r.seed = uint64_t(seed());
  r.width = width_->value();
  r.height = height_->value();
  r.frames = frames_->value();
  r.steps = steps_->value();
  r.guidance = guidance_->value();
  if (two_experts_) r.low_noise_guidance = low_noise_guidance_->value();
  r.shift = shift_->value();
  r.noise_on_device = noise_on_device_->isChecked();
  r.attention = attention();
  r.cpu_threads = all_cores_->isChecked() ? std::max(1, int(std::thread::hardware_concurrency())) : 0;
  return r;
}

AttentionConfig SettingsPanel::attention() const {
  AttentionConfig c = hidden_;
  c.mode = AttentionMode(mode_->currentData().toInt());
  c.top_p = top_p_->value();
  c.q_clusters = q_clusters_->value();
  c.k_clusters = k_clusters_->value();
  c.guaranteed_ratio = guaranteed_ratio_->value();
  c.dense_warmup_steps = dense_warmup_steps_->value();
  c.dense_layers = dense_layers_->value();
  return c;
}

void SettingsPanel::setAttention(const AttentionConfig& c) {
  hidden_ = c;
  mode_->setCurrentIndex(std::max(0, mode_->findData(int(c.mode))));
  top_p_->setValue(c.top_p);
  q_clusters_->setValue(c.q_clusters);
  k_clusters_->setValue(c.k_clusters);
  guaranteed_ratio_->setValue(c.guaranteed_ratio);
  dense_warmup_steps_->setValue(c.dense_warmup_steps);
  dense_layers_->setValue(c.dense_layers);
  syncAttentionControls();
}

QStringList SettingsPanel::setRequest(const StudioRequest& given) {
  // A count the run's tokens capped is kept as the box has it when that is no smaller: the run
  // again at this size is capped the same, and the preset chosen (Fast's 1000 key clusters) stays
  // for larger runs rather than becoming Custom with the small clip's count.
  StudioRequest r = given;
  const AttentionConfig shown = attention();
  const auto keep_shown = [&](int& count, int shown_count) {
    if (r.attention_tokens > 0 && count == r.attention_tokens && shown_count >= count) count = shown_count;
  };
  keep_shown(r.attention.k_clusters, shown.k_clusters);
  keep_shown(r.attention.q_clusters, shown.q_clusters == 0 ? default_q_clusters(r.height, r.width) : shown.q_clusters);
  const QScopedValueRollback<bool> setting(setting_, true);
  width_->setValue(r.width);
  height_->setValue(r.height);
  frames_->setValue(r.frames);
  steps_->setValue(r.steps);
  guidance_->setValue(r.guidance);
  if (r.low_noise_guidance) low_noise_guidance_->setValue(*r.low_noise_guidance);
  shift_->setValue(r.shift);
  noise_on_device_->setChecked(r.noise_on_device);
  seed_->setValue(int(std::min<uint64_t>(r.seed, INT_MAX)));
  seed_locked_->setChecked(true);
  setAttention(with_auto_q_clusters(r.attention, r.height, r.width));
  // A box clamps a value outside its range and rounds one finer than its decimals, silently.
  QStringList unheld;
  const auto check = [&](const char* name, double given, double held) {
    if (!near(given, held)) unheld << tr("%1 %2 (now %3)").arg(name).arg(given, 0, 'g', 10).arg(held, 0, 'g', 10);
  };
  if (r.seed != uint64_t(seed_->value())) unheld << tr("seed %1 (now %2)").arg(qulonglong(r.seed)).arg(seed_->value());
  const StudioRequest now = request();
  check("width", r.width, now.width);
  check("height", r.height, now.height);
  check("frames", r.frames, now.frames);
  check("steps", r.steps, now.steps);
  check("guidance", r.guidance, now.guidance);
  if (r.low_noise_guidance && now.low_noise_guidance) {
    check("low_noise_guidance", *r.low_noise_guidance, *now.low_noise_guidance);
  }
  check("shift", r.shift, now.shift);
  check("top_p", r.attention.top_p, now.attention.top_p);
  // Q_C 0 (Auto, as a preset or a hand-made record holds it) is its size's count on either side.
  const auto q_clusters = [](const StudioRequest& x) {
    return x.attention.q_clusters == 0 ? default_q_clusters(x.height, x.width) : x.attention.q_clusters;
  };
  check("q_clusters", q_clusters(r), q_clusters(now));
  check("k_clusters", r.attention.k_clusters, now.attention.k_clusters);
  check("guaranteed_ratio", r.attention.guaranteed_ratio, now.attention.guaranteed_ratio);
  check("dense_warmup_steps", r.attention.dense_warmup_steps, now.attention.dense_warmup_steps);
  check("dense_layers", r.attention.dense_layers, now.attention.dense_layers);
  return unheld;
}

QStringList SettingsPanel::applyModelDefaults(const ModelSummary& m) {
  const QScopedValueRollback<bool> setting(setting_, true);
  QStringList changed;
  const QString size = width_->text() + "×" + height_->text();
  width_->setValue(m.width);
  height_->setValue(m.height);
  if (width_->text() + "×" + height_->text() != size) {
    changed << tr("%1×%2 (was %3)").arg(width_->text(), height_->text(), size);
  }
  const auto set = [&changed](auto* box, auto value, const QString& what) {
    const QString before = box->text();
    box->setValue(value);
    if (box->text() != before) changed << what.arg(box->text(), before);
  };
  set(frames_, m.frames, tr("frames %1 (was %2)"));
  set(steps_, m.steps, tr("steps %1 (was %2)"));
  set(guidance_, m.guidance, two_experts_ ? tr("high-noise guidance %1 (was %2)") : tr("guidance %1 (was %2)"));
  if (m.low_noise_guidance) set(low_noise_guidance_, *m.low_noise_guidance, tr("low-noise guidance %1 (was %2)"));
  set(shift_, m.shift, tr("shift %1 (was %2)"));
  return changed;
}

void SettingsPanel::fitVideoToModel(const ModelSummary& m) {
  const QScopedValueRollback<bool> setting(setting_, true);  // a bound moved here is no edit
  for (auto [box, multiple] : {std::pair{width_, m.width_multiple}, std::pair{height_, m.height_multiple}}) {
    const int step = std::max(1, multiple);  // every side a run takes, the ones its errors suggest
    box->setSingleStep(step);
    box->setMinimum(step);
  }
  // Counts the frame limit cannot hold (a hand-edited patch of hundreds of frames) leave every
  // count to the box: a run says why none fits.
  const bool fits = m.frames_first >= 1 && m.frames_step >= 1 && m.frames_first <= kMaxFrames;
  const int first = fits ? m.frames_first : 1, step = fits ? m.frames_step : 1;
  static_cast<ClampingSpinBox*>(frames_)->setStepOrigin(first % step);
  frames_->setSingleStep(step);
  frames_->setRange(first, first + (kMaxFrames - first) / step * step);
}

void SettingsPanel::showModelExperts(const ModelSummary& m) {
  two_experts_ = m.low_noise_guidance.has_value();
  sampling_form_->setRowVisible(low_noise_guidance_, two_experts_);
  auto* label = qobject_cast<QLabel*>(sampling_form_->labelForField(guidance_));
  if (label) label->setText(two_experts_ ? tr("Guidance, high noise") : tr("Guidance"));
}

void SettingsPanel::applyPreset(int index) {
  const QString name = preset_->itemData(index).toString();
  if (name.isEmpty()) {
    syncAttentionControls();  // Custom chosen: the knobs say what the box shows (None, in dense mode)
    return;
  }
  setAttention(named_attention_preset(name.toStdString()));
}

void SettingsPanel::syncAttentionControls() {
  const AttentionConfig current = attention();
  const bool dense = current.mode == AttentionMode::Dense;
  sparse_->setEnabled(!dense);
  guaranteed_ratio_->setEnabled(current.mode == AttentionMode::SvgEar);
  // Custom describes no dense run either: not offered there.
  qobject_cast<QStandardItemModel*>(preset_->model())->item(0)->setEnabled(!dense);
  int match = 0;  // Custom
  if (dense) {
    match = -1;  // the placeholder: no budget to describe
  } else {
    for (int i = 1; i < preset_->count(); ++i) {
      if (same_config(current, named_attention_preset(preset_->itemData(i).toString().toStdString()))) match = i;
    }
  }
  const QSignalBlocker block(preset_);
  preset_->setCurrentIndex(match);
}

void SettingsPanel::save(QSettings& s) const {
  s.setValue("settings/width", width_->value());
  s.setValue("settings/height", height_->value());
  s.setValue("settings/frames", frames_->value());
  s.setValue("settings/steps", steps_->value());
  s.setValue("settings/guidance", guidance_->value());
  s.setValue("settings/low_noise_guidance", low_noise_guidance_->value());
  s.setValue("settings/shift", shift_->value());
  s.setValue("settings/seed", seed_->value());
  s.setValue("settings/seed_locked", seed_locked_->isChecked());
  s.setValue("settings/noise_on_device", noise_on_device_->isChecked());
  // A new key: the old "settings/all_cores" holds the former default (off) for everyone who ran
  // the studio before it became on.
  s.setValue("settings/use_every_cpu_core", all_cores_->isChecked());
  s.setValue("settings/attention", QString::fromStdString(attention_config_to_json(attention()).dump()));
}

void SettingsPanel::restore(const QSettings& s) {
  const QScopedValueRollback<bool> setting(setting_, true);
  // A saved value that is no number (a damaged or hand-edited file's "abc", which toInt reads as 0
  // and the box would clamp to its minimum) leaves the box as it is; a number is clamped by the box.
  const auto restore_whole = [&](QSpinBox* box, const char* key) {
    bool ok = false;
    const qlonglong value = s.value(key).toLongLong(&ok);
    if (ok) box->setValue(int(std::clamp<qlonglong>(value, box->minimum(), box->maximum())));
  };
  const auto restore_number = [&](QDoubleSpinBox* box, const char* key) {
    bool ok = false;
    const double value = s.value(key).toDouble(&ok);
    if (ok && std::isfinite(value)) box->setValue(value);
  };
  // QSettings writes "true" and "false"; anything else ("maybe", which toBool reads as true) keeps
  // the default.
  const auto restore_flag = [&](QCheckBox* box, const char* key, bool fallback) {
    const QString value = s.value(key).toString();
    box->setChecked(value == "true" ? true : value == "false" ? false : fallback);
  };
  restore_whole(width_, "settings/width");
  restore_whole(height_, "settings/height");
  restore_whole(frames_, "settings/frames");
  restore_whole(steps_, "settings/steps");
  restore_number(guidance_, "settings/guidance");
  restore_number(low_noise_guidance_, "settings/low_noise_guidance");
  restore_number(shift_, "settings/shift");
  restore_whole(seed_, "settings/seed");
  restore_flag(seed_locked_, "settings/seed_locked", false);
  restore_flag(noise_on_device_, "settings/noise_on_device", false);
  restore_flag(all_cores_, "settings/use_every_cpu_core", true);
  const std::string saved = s.value("settings/attention").toString().toStdString();
  // A settings file from another version may hold fields or values this one rejects: keep the
  // defaults then rather than refusing to start.
  try {
    if (!saved.empty()) {
      setAttention(with_auto_q_clusters(attention_config_from_json(nlohmann::json::parse(saved), AttentionConfig{}),
                                        height_->value(), width_->value()));
    }
  } catch (const std::exception&) {
    setAttention(AttentionConfig{});
  }
}

}  // namespace svgear
