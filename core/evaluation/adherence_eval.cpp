#include "core/evaluation/adherence_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <stdexcept>

#include "core/attention/attention_preset.h"
#include "core/metrics/video_quality.h"
#include "core/pipeline/generator.h"
#include "core/shapes/adherence_evaluator.h"
#include "core/shapes/scene_sampler.h"
#include "core/user_error.h"

namespace svgear {
namespace {

struct Tally {
  int objects = 0, colour = 0, shape = 0, motion = 0;
  double psnr_sum = 0.0, ssim_sum = 0.0, seconds = 0.0;
  int compared = 0, clips = 0;
};

// Passes a generation's notes and warnings on, each once (every clip of a mode says the same), and
// none of its step events: a line per step of every clip would bury the clips' own lines.
class ClipNotes : public EventSink {
 public:
  explicit ClipNotes(EventSink& out) : out_(out) {}
  void on_log(const std::string& line) override {
    if (said(line)) out_.on_log(line);
  }
  void on_warning(const std::string& line) override {
    if (said(line)) out_.on_warning(line);
  }

 private:
  bool said(const std::string& line) { return said_.insert(line).second; }
  EventSink& out_;
  std::set<std::string> said_;
};

std::string duration_text(double seconds) {
  char text[32];
  if (seconds < 60.0) {
    std::snprintf(text, sizeof text, "%.1f s", seconds);
  } else if (seconds < 3600.0) {
    std::snprintf(text, sizeof text, "%d min %02d s", int(seconds) / 60, int(seconds) % 60);
  } else {
    std::snprintf(text, sizeof text, "%d h %02d min", int(seconds) / 3600, int(seconds) / 60 % 60);
  }
  return text;
}

}  // namespace

void check_eval_prompt_count(int prompts) {
  if (prompts < 1 || prompts > kMaxEvalPrompts) {
    throw UserError("--prompts must be from 1 to " + std::to_string(kMaxEvalPrompts) + ", got " + std::to_string(prompts));
  }
}

AdherenceEvalResult run_adherence_eval(Model& model, const AdherenceEvalOptions& options, const CancelToken& cancel,
                                       EventSink& events) {
  check_eval_prompt_count(options.prompts);
  std::vector<AttentionMode> modes = {AttentionMode::Dense};
  for (const AttentionMode mode : options.modes) {
    if (mode != AttentionMode::Dense) modes.push_back(mode);
  }
  // Exactly that many: the sampler's range from one up would score mostly single objects.
  SceneSamplerOptions scenes;
  scenes.min_objects = scenes.max_objects = options.objects;
  AdherenceEvalResult result;
  result.model = model.manifest.name;
  result.objects_per_prompt = options.objects;
  // Resolved as its first sparse mode runs it: Auto's query clusters are counted, and the counts
  // clamped to the clip's tokens, only for a sparse mode (a dense preset's had shown 0 query clusters).
  GenerationRequest described = options.base;
  if (modes.size() > 1) described.attention.mode = modes[1];
  const GenerationRequest resolved = described.resolve(model.manifest);
  result.sampler = sampler_kind_name(*resolved.sampler);
  result.steps = *resolved.steps;
  result.guidance = *resolved.guidance;
  result.shift = *resolved.shift;
  result.frames = *resolved.frames;
  result.height = *resolved.height;
  result.width = *resolved.width;
  result.first_seed = options.first_seed;
  result.sparse = resolved.attention;  // the cluster counts clamped to the clip's tokens, as they ran
  result.modes = modes;
  std::vector<Tally> tallies(modes.size());
  Generator generator(model);
  ClipNotes notes(events);
  const int clips = options.prompts * int(modes.size());
  for (int i = 0; i < options.prompts; ++i) {
    const uint64_t seed = options.first_seed + uint64_t(i);
    const SampledScene scene = sample_scene(seed, scenes);
    AdherenceEvalPrompt entry{scene.prompt, seed, {}, {}};
    Video dense_video;
    for (size_t m = 0; m < modes.size(); ++m) {
      GenerationRequest request = options.base;
      request.prompt = scene.prompt;
      request.seed = seed;
      request.attention.mode = modes[m];
      request.preview_every = 0;
      const auto start = std::chrono::steady_clock::now();
      GenerationResult run = generator.run(request, notes, cancel);
      cancel.throw_if_cancelled();
      if (run.status != GenerationStatus::Finished) {
        const std::string message =
            "generating '" + scene.prompt + "' with " + attention_mode_name(modes[m]) + " attention failed: " + run.error;
        if (run.error_is_internal) throw std::runtime_error(message);  // a bug to report, not the user's
        throw UserError(message);
      }
      Tally& t = tallies[m];
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      t.seconds += seconds;
      ++t.clips;
      const int done = i * int(modes.size()) + int(m) + 1;
      // Each mode's clips left at that mode's own pace so far: a sparse clip on a CPU takes ~3.5
      // dense ones, which one mean over every clip had projected onto the rest.
      double left = 0.0;
      for (size_t k = 0; k < modes.size(); ++k) {
        const int left_of_mode = options.prompts - tallies[k].clips;
        const Tally& pace = tallies[k].clips > 0 ? tallies[k] : tallies[0];
        left += left_of_mode * pace.seconds / std::max(1, pace.clips);
      }
      events.on_log("clip " + std::to_string(done) + "/" + std::to_string(clips) + ": prompt " +
                    std::to_string(i + 1) + " with " + attention_mode_name(modes[m]) + " attention in " +
                    duration_text(seconds) + (done < clips ? ", ETA " + duration_text(left) : std::string()) +
                    " (\"" + scene.prompt + "\")");
      const AdherenceReport report = evaluate_adherence(run.video, scene.spec);
      for (const ObjectAdherence& object : report.objects) {
        ++t.objects;
        t.colour += object.colour_right;
        t.shape += object.shape_right;
        t.motion += object.motion_right;
      }
      entry.score.push_back(report.score());
      if (m == 0) {
        dense_video = run.video;
      } else {
        const VideoQuality quality = compare_videos(dense_video, run.video);
        // A clip identical to dense has infinite PSNR; the mean is taken over the finite ones.
        if (std::isfinite(quality.mean_psnr_db)) {
          t.psnr_sum += quality.mean_psnr_db;
          ++t.compared;
        }
        t.ssim_sum += quality.mean_ssim;
      }
      if (options.keep_videos) entry.videos.push_back(std::move(run.video));
    }
    result.prompts.push_back(std::move(entry));
  }
  for (size_t m = 0; m < modes.size(); ++m) {
    const Tally& t = tallies[m];
    AdherenceEvalRow row;
    row.mode = modes[m];
    row.objects = t.objects;
    const double n = std::max(1, t.objects);
    row.colour = t.colour / n;
    row.shape = t.shape / n;
    row.motion = t.motion / n;
    row.all = double(t.colour + t.shape + t.motion) / (3.0 * n);
    row.seconds_per_clip = t.seconds / std::max(1, t.clips);
    if (m > 0) {
      // Every clip identical to dense: infinite PSNR.
      row.mean_psnr_db = t.compared > 0 ? t.psnr_sum / t.compared : std::numeric_limits<double>::infinity();
      row.mean_ssim = t.ssim_sum / std::max(1, t.clips);
    }
    result.rows.push_back(row);
  }
  return result;
}

nlohmann::json AdherenceEvalResult::to_json() const {
  nlohmann::json rows_json = nlohmann::json::array();
  for (const AdherenceEvalRow& r : rows) {
    nlohmann::json j = {{"mode", attention_mode_name(r.mode)}, {"objects", r.objects},   {"colour", r.colour},
                        {"shape", r.shape},                    {"motion", r.motion},     {"all_attributes", r.all},
                        {"seconds_per_clip", r.seconds_per_clip}};
    if (!r.mean_psnr_db) {
      j["mean_psnr_db_vs_dense"] = nullptr;
    } else if (std::isinf(*r.mean_psnr_db)) {
      j["mean_psnr_db_vs_dense"] = "inf";  // JSON has no infinity; compare's report says it so too
    } else {
      j["mean_psnr_db_vs_dense"] = *r.mean_psnr_db;
    }
    j["mean_ssim_vs_dense"] = r.mean_ssim ? nlohmann::json(*r.mean_ssim) : nlohmann::json(nullptr);
    rows_json.push_back(j);
  }
  nlohmann::json prompts_json = nlohmann::json::array();
  for (const AdherenceEvalPrompt& p : prompts) {
    prompts_json.push_back({{"prompt", p.prompt}, {"seed", p.seed}, {"score", p.score}});
  }
  // Each sparse row ran its own mode with these settings; dense alone ran none of them.
  nlohmann::json sparse_json = nullptr;
  if (modes.size() > 1) {
    sparse_json = attention_config_to_json(sparse);
    sparse_json.erase("mode");
  }
  nlohmann::json modes_json = nlohmann::json::array();
  for (const AttentionMode mode : modes) modes_json.push_back(attention_mode_name(mode));
  return {{"model", model},
          {"objects_per_prompt", objects_per_prompt},
          {"sampling", {{"sampler", sampler}, {"steps", steps}, {"guidance", guidance}, {"shift", shift}}},
          {"video", {{"frames", frames}, {"height", height}, {"width", width}}},
          {"first_seed", first_seed},
          {"modes", modes_json},
          {"sparse_attention", sparse_json},
          {"rows", rows_json},
          {"prompts", prompts_json}};
}

std::string AdherenceEvalResult::table() const {
  char line[256];
  std::snprintf(line, sizeof line, "model %s, %zu held-out prompt%s of %d object%s; %d %s step%s, guidance %g, shift %g\n",
                model.c_str(), prompts.size(), prompts.size() == 1 ? "" : "s", objects_per_prompt, objects_per_prompt == 1 ? "" : "s", steps,
                sampler.c_str(), steps == 1 ? "" : "s", guidance, shift);
  std::string text = line;
  if (rows.size() > 1) {
    std::snprintf(line, sizeof line, "sparse: top_p %g, %d query / %d key clusters, dense for the first %g of the steps\n",
                  sparse.top_p, sparse.q_clusters, sparse.k_clusters, sparse.dense_warmup_steps);
    text += line;
  }
  std::snprintf(line, sizeof line, "%-7s %7s %7s %7s %7s %9s %7s %9s\n", "mode", "colour", "shape", "motion", "all",
                "PSNR dB", "SSIM", "s/clip");
  text += line;
  for (const AdherenceEvalRow& r : rows) {
    char psnr[16] = "-", ssim[16] = "-";
    if (r.mean_psnr_db && std::isinf(*r.mean_psnr_db)) {
      std::snprintf(psnr, sizeof psnr, "inf");
    } else if (r.mean_psnr_db) {
      std::snprintf(psnr, sizeof psnr, "%.2f", *r.mean_psnr_db);
    }
    if (r.mean_ssim) std::snprintf(ssim, sizeof ssim, "%.4f", *r.mean_ssim);
    std::snprintf(line, sizeof line, "%-7s %6.1f%% %6.1f%% %6.1f%% %6.1f%% %9s %7s %9.2f\n", attention_mode_name(r.mode),
                  100 * r.colour, 100 * r.shape, 100 * r.motion, 100 * r.all, psnr, ssim, r.seconds_per_clip);
    text += line;
  }
  return text;
}

}  // namespace svgear
