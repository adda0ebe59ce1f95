#pragma once
// Prompt-adherence evaluation of a shapes-world model (issue 5, `svgear eval`): a fixed set of
// held-out prompts, each generated with dense attention and with each sparse mode (same request and
// seed), scored from the pixels by the shapes world's adherence evaluator (colour, shape and motion
// of every prompted object), and the sparse videos compared with the dense ones (PSNR / SSIM).
//
//   auto model = Model::load("resources/models/shapes-s", device);
//   AdherenceEvalOptions options;                    // 20 prompts, dense and SVG-EAR
//   AdherenceEvalResult result = run_adherence_eval(*model, options, cancel, progress);
//   std::fputs(result.table().c_str(), stdout);
//
// The prompts come from the scene sampler with seeds first_seed, first_seed + 1, ...: training
// draws its scenes from hashed seeds, so this small consecutive range is effectively held out.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/attention/attention_config.h"
#include "core/cancel_token.h"
#include "core/media/video.h"
#include "core/pipeline/event_sink.h"
#include "core/pipeline/generation_request.h"
#include "core/pipeline/model.h"

namespace svgear {

// The most held-out prompts an evaluation takes (the adherence eval's and text influence's): each
// is a generation per mode, seconds to minutes, and a typo's 2^31 would run for years.
constexpr int kMaxEvalPrompts = 1000;
// Throws UserError ("--prompts must be from 1 to 1000") for a count outside [1, kMaxEvalPrompts].
void check_eval_prompt_count(int prompts);

struct AdherenceEvalOptions {
  int prompts = 20;
  uint64_t first_seed = 1'000'000;
  int objects = 1;                     // objects in every prompt (1 to 3)
  std::vector<AttentionMode> modes = {AttentionMode::SvgEar};  // sparse modes beside dense (none: dense only)
  GenerationRequest base;              // steps, guidance, size... (prompt, seed and mode are set per run)
  bool keep_videos = false;            // keep every clip in the result (for a contact sheet)
};

struct AdherenceEvalRow {
  AttentionMode mode = AttentionMode::Unset;
  int objects = 0;
  double colour = 0.0, shape = 0.0, motion = 0.0, all = 0.0;  // fractions right
  // Against dense; unset for dense itself. PSNR is the mean over clips that differ from dense, +inf
  // when none does.
  std::optional<double> mean_psnr_db, mean_ssim;
  double seconds_per_clip = 0.0;
};

struct AdherenceEvalPrompt {
  std::string prompt;
  uint64_t seed = 0;
  std::vector<double> score;  // per row: the fraction of its attributes right
  std::vector<Video> videos;  // per row, when AdherenceEvalOptions::keep_videos
};

struct AdherenceEvalResult {
  std::string model;
  int objects_per_prompt = 1;  // AdherenceEvalOptions::objects
  // The resolved sampling every clip used: sampler, steps, guidance, shift.
  std::string sampler;
  int steps = 0;
  double guidance = 0.0, shift = 0.0;
  int frames = 0, height = 0, width = 0;  // every clip's
  uint64_t first_seed = 0;               // the prompt set: prompts' seeds from here on
  std::vector<AttentionMode> modes;   // dense first, then the sparse modes, as the rows
  AttentionConfig sparse;              // the sparse modes' settings as they ran (each row its own mode)
  std::vector<AdherenceEvalRow> rows;  // dense first
  std::vector<AdherenceEvalPrompt> prompts;

  nlohmann::json to_json() const;
  std::string table() const;
};

// `events` hears a line per clip as it is scored (its number, prompt, mode, time and the ETA: an
// eval at the defaults on a CPU takes an hour) and each generation's notes and warnings once; no
// step events. Throws UserError when a generation fails (its message; std::runtime_error when the
// failure is internal, a bug), Cancelled when `cancel` fires.
AdherenceEvalResult run_adherence_eval(Model& model, const AdherenceEvalOptions& options, const CancelToken& cancel,
                                       EventSink& events);

}  // namespace svgear
