#pragma once
// ModelSummary: what the GUI needs to know about a loaded model — its name, vocabulary (for prompt
// completion) and sampling defaults — as plain Qt values, so it can cross threads in a signal.

#include <optional>

#include <QMetaType>
#include <QString>
#include <QStringList>

namespace svgear {

struct ModelSummary {
  QString folder;
  int load = 0;  // the GenerationWorker::loadModel that made it; 0: a run's own load
  QString name;
  QString description;
  QString device;
  // Where a Wan model's text encoder and VAE run, as loaded ("text encoder on cpu, freed after
  // encoding · VAE on cuda:0"); empty for built-in models, which keep everything on `device`.
  QString placement;
  QStringList vocabulary;  // empty for open-vocabulary text encoders
  int width = 0;
  int height = 0;
  // The sides a request may have are multiples of these (the patch, times the VAE's stride).
  int width_multiple = 1;
  int height_multiple = 1;
  int frames = 0;
  // The frame counts a request may have: frames_first + k·frames_step (Wan: 1, 5, 9, …).
  int frames_first = 1;
  int frames_step = 1;
  int layers = 0;  // the DiT's blocks and attention heads, which a routing trace may name
  int heads = 0;
  int steps = 0;
  double guidance = 0.0;
  std::optional<double> low_noise_guidance;  // Wan2.2-A14B's low-noise expert; unset with one DiT
  double shift = 0.0;
  // Why the defaults cannot run as a request (a hand-edited model.json's width of -64 or 0 steps);
  // empty when they can.
  QString defaults_problem;
};

}  // namespace svgear

Q_DECLARE_METATYPE(svgear::ModelSummary)
