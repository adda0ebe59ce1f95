#pragma once
// GenerationRequest: everything that determines one generation. Unset optionals take the model's
// defaults (resolve()); a resolved request plus the model reproduces the video bit for bit on the
// same device.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/attention/attention_config.h"
#include "core/attention/routing_trace.h"
#include "core/pipeline/model_manifest.h"
#include "core/sampling/sampler.h"
#include "core/sampling/seeded_noise.h"

namespace svgear {

struct GenerationRequest {
  std::string prompt;
  std::optional<std::string> negative_prompt;
  uint64_t seed = 0;
  std::optional<int> steps;
  std::optional<double> guidance;  // classifier-free guidance scale; 1 disables the unconditional pass
  // Wan2.2-A14B: the guidance of the low-noise expert's steps (`guidance` is the high-noise
  // expert's); refused for a model with one DiT.
  std::optional<double> low_noise_guidance;
  std::optional<double> shift;     // timestep shift of the flow schedule
  std::optional<int> frames;
  std::optional<int> height;
  std::optional<int> width;
  std::optional<double> fps;
  std::optional<SamplerKind> sampler;
  // Where the starting noise is drawn (seeded_noise.h): Device gives Wan's generate.py's noise on a
  // GPU. In to_json only when Device, so records from before it read as Cpu, as they were.
  NoiseSource noise = NoiseSource::Cpu;
  AttentionConfig attention;
  int preview_every = 1;  // emit a preview every N steps; 0 = none
  // On a cancel, decode the last step's estimate (through the preview decoder) when no preview
  // shows it: a partial result without a preview decode at every step (the CLI's), and the last
  // step's, which no preview shows, on a cancel in the final decode (the studio's). Not in to_json.
  bool keep_estimate = false;
  // Save the q, k, v of one self-attention call (conditional branch) for `svgear bench attention
  // --inputs`. A side output, not a setting: it does not change the video and is not in to_json.
  struct AttentionDump {
    std::filesystem::path path;
    std::optional<int> layer;  // default: the middle layer
    std::optional<int> step;   // default: the middle step
  };
  std::optional<AttentionDump> dump_attention;
  // Routing traces for EventSink::on_routing (the studio's routing views): which layers and heads
  // of the conditional branch's sparse calls to trace, and which layers to also run densely to
  // measure the true error. Off by default. A side output like dump_attention: the video is the
  // same with it on, and it is not in to_json. Tracing synchronises the device between phases.
  TraceOptions routing_trace;

  // Fills every unset field from the model's defaults and checks the values against the model
  // (sizes divisible by the patch, positive counts); throws UserError saying what to change.
  GenerationRequest resolve(const ModelManifest& model) const;
  // Whether a resolved request runs the unconditional pass at some step (a guidance other than 1).
  bool reads_negative_prompt() const;
  nlohmann::json to_json() const;
};

// Throws resolve()'s UserError when the model's own defaults cannot run as a request (a
// hand-edited model.json's width of -64, 0 steps): `svgear info --model` checks them so, and the
// studio warns of them at load.
void check_model_defaults(const ModelManifest& model);

// The frame counts resolve() takes for `model`: first, first + step, first + 2·step, … (Wan 2.1:
// 1, 5, 9, …; a pixel model whose patch holds one frame: every count), for the studio's arrows.
struct FrameCounts {
  int first = 1;
  int step = 1;
};
FrameCounts frame_counts(const ModelManifest& model);

// A text encoder's message about "the prompt", for the negative prompt ("… in the negative prompt"),
// `source` following those words (where a model's default came from).
std::string negative_prompt_message(std::string message, const std::string& source = "");

// The tokens one attention call of a resolved request holds (latent frames × rows × columns, in
// patches): what resolve() caps a sparse run's cluster counts at (a dense run keeps them as given).
// A run record keeps it, so that a count at it reads as "any count from here up" when the run is
// reopened.
int64_t attention_tokens(const GenerationRequest& resolved, const ModelManifest& model);

}  // namespace svgear
