#pragma once
// EventSink: how a generation reports progress. The Generator calls these on its own thread; the
// CLI prints them, the GUI's worker forwards them as queued signals. Events carry plain values.

#include <string>
#include <vector>

#include "core/attention/routing_trace.h"
#include "core/media/video.h"

namespace svgear {

struct StepEvent {
  int step = 0;  // 0-based index of the step just finished
  int num_steps = 0;
  double timestep = 0.0;
  double step_ms = 0.0;
  double elapsed_ms = 0.0;  // since the generation started
  double eta_ms = 0.0;      // estimate of the time left
};

struct PreviewEvent {
  int step = 0;
  const Video& video;  // the current estimate of the clean video; copy it to keep it
};

// What the sparse attention decided in one step, for the request's routing_trace selection: one
// RoutingTrace per selected (layer, head) of every sparse self-attention call of the conditional
// branch, in layer order. Sent once per step that had such calls (dense warm-up steps and dense
// layers have nothing to trace).
struct RoutingEvent {
  int step = 0;
  int num_steps = 0;
  int num_layers = 0;
  int num_heads = 0;
  // The token grid the labels index: token = (frame · grid_height + row) · grid_width + column.
  int grid_frames = 0;
  int grid_height = 0;
  int grid_width = 0;
  // The model's ModelManifest::temporal_factor: 0 when video frames map evenly onto grid frames
  // (pixel models), else t of Wan's causal VAE (video frame 0 is latent frame 0; each later latent
  // frame is t video frames).
  int temporal_factor = 0;
  std::vector<RoutingTrace> traces;  // owned; on_routing hands the event over (by value)
  // What the step belongs to, so that a trace file says what made it: {"model": the model's name,
  // "request": the resolved GenerationRequest::to_json()}; null where no generation made it.
  nlohmann::json run;
};

struct FinishedEvent {
  const Video& video;
  double total_ms = 0.0;
};

struct ErrorEvent {
  std::string message;  // says what went wrong and what to do
};

// What a generation is doing where no step event marks it: the prompt's encoding, then the steps
// (the first of which, on a CPU or with k-means from scratch, can take minutes before any event),
// then the video's decode after the last step.
enum class RunPhase { EncodingPrompt, Denoising, Decoding };

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_phase(RunPhase) {}
  virtual void on_step(const StepEvent&) {}
  virtual void on_preview(const PreviewEvent&) {}
  // By value: a sink that keeps the step moves it (a Wan step traced in every layer and head is
  // ~0.5 GB of labels and maps).
  virtual void on_routing(RoutingEvent) {}
  virtual void on_finished(const FinishedEvent&) {}
  virtual void on_error(const ErrorEvent&) {}
  virtual void on_log(const std::string& line) {}
  // What the user should know even when progress is hidden (the CLI's --quiet): a prompt cut short,
  // a sparse mode without its kernel. A log line unless the sink says otherwise.
  virtual void on_warning(const std::string& line) { on_log(line); }
};

}  // namespace svgear
