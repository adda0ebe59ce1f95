#pragma once
// StudioRequest: what the settings and prompt panels ask the worker to generate. Plain values, no
// LibTorch (GenerationRequest pulls in ATen through the sampler header, and this type crosses
// moc'd signal signatures); the worker turns it into a GenerationRequest.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <QMetaType>
#include <nlohmann/json.hpp>

#include "core/attention/attention_config.h"

namespace svgear {

// What the routing panel asks the run to record: nothing, the routing traces of every sparse layer
// and head, or those plus the dense audit of every layer (the worker knows the layer count).
enum class RoutingRecording { Unset, Off, Trace, TraceAndAudit };

// Where a model runs, as the Model dock sets it: its device (the CLI's --device; any model), and for
// a Wan model where its text encoder and VAE run (--text-encoder-device cpu, --free-text-encoder and
// --vae-device cpu; built-in models keep everything on the device).
struct ModelPlacement {
  std::string device = "auto";  // auto | cpu | cuda:N, as parse_device reads it
  bool text_encoder_on_cpu = false;
  bool free_text_encoder = false;  // after a generation's prompts are encoded (reloaded for a new one)
  bool vae_on_cpu = false;
  bool idle_expert_on_cpu = false;  // Wan2.2-A14B on a GPU: the expert not in use waits in host memory
  bool dit_fp8 = false;             // the DiT's linear weights quantised to fp8 as they load
  bool operator==(const ModelPlacement&) const = default;
};

struct StudioRequest {
  std::filesystem::path model_folder;
  // The run record has what the load made of it (Model::text_encoder_device, vae_device): the
  // VAE's place changes the video's rounding.
  ModelPlacement placement;
  std::string prompt;
  std::string negative_prompt;  // empty = the model's default negative prompt
  uint64_t seed = 0;
  int width = 0;
  int height = 0;
  int frames = 0;
  int steps = 0;
  double guidance = 0.0;  // with two experts (Wan2.2-A14B), the high-noise one's
  std::optional<double> low_noise_guidance;  // the low-noise expert's; unset for a model with one DiT
  double shift = 0.0;
  bool noise_on_device = false;  // GenerationRequest::noise: the GPU's generator, as Wan's generate.py
  AttentionConfig attention;
  // A reopened run's tokens per attention call (its record's attention_tokens; 0: not recorded). A
  // cluster count equal to it was capped there (GenerationRequest::resolve) and ran as any larger
  // count would have, so the box may keep a larger one.
  int64_t attention_tokens = 0;
  RoutingRecording routing = RoutingRecording::Off;
  // The layers and heads traced (and audited) when routing is recorded; empty = all.
  std::vector<int> trace_layers, trace_heads;
  // LibTorch threads for a CPU model: 0 = every core but one, which the GUI keeps; it changes
  // speed, not the video beyond float rounding. Not part of a run record.
  int cpu_threads = 0;
};

// The request a run record (core/pipeline/run_record.h) resolved, to reproduce it: model folder,
// prompts, seed, size, steps, guidance, shift and attention settings. Throws UserError when the
// record lacks them.
StudioRequest studio_request_from_record(const nlohmann::json& record);

// The sparse mode a Compare or sweep runs against dense: the request's, or SVG-EAR when it asks
// for dense.
AttentionMode compared_sparse_mode(const StudioRequest& request);

}  // namespace svgear

Q_DECLARE_METATYPE(svgear::StudioRequest)
