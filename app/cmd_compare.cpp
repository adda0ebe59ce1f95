// svgear compare: the same request with dense attention and with a sparse mode, side by side —
// both videos, their run records, per-frame PSNR / SSIM of the sparse video against the dense one,
// and the time per step of each, in <out>/report.json and a short table.

#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/interrupt_cancel.h"
#include "app/request_options.h"
#include "app/terminal_progress.h"
#include "app/terminal_text.h"
#include "core/attention/attention_preset.h"
#include "core/io/atomic_file.h"
#include "core/io/bounded_json.h"
#include "core/io/folder_lock.h"
#include "core/io/folders_made.h"
#include "core/media/frame_archive.h"
#include "core/media/video_output.h"
#include "core/media/video_reader.h"
#include "core/metrics/video_quality.h"
#include "core/pipeline/dense_run_cache.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/run_record.h"
#include "core/user_error.h"
#include "svgear/build_config.h"

namespace svgear {
namespace {

constexpr const char* kUsage = "usage: svgear compare --prompt TEXT [options]\n\n";
constexpr const char* kOwnHelp = R"(  --attention MODE   the sparse mode to measure: svg2 | svgear (default svgear); dense compares
                     dense with itself (a determinism check, written as DIR/dense-rerun.mp4)
  --out DIR          writes DIR/dense.mp4, DIR/<mode>.mp4, their .json run records,
                     DIR/dense.frames (the dense frames as generated, for a later compare) and
                     DIR/report.json (default out/compare-<seed>)
  --no-cache         run dense again even when DIR holds a dense run of the same request
  --quiet            no progress lines or notes: warnings, errors, the table and the files only
Ctrl-C, SIGTERM or SIGHUP stops the current step at its next DiT block; finished runs stay in DIR (a finished dense run is reused next
time), no report is written, and the exit code is 128 + the signal's number (130 for Ctrl-C).
A dense run already in DIR with the same request, model and device is reused (and said so); one
whose video or dense.frames is missing or damaged runs again.
PSNR / SSIM are computed on the frames read back from the written files, as the papers do, and
also on the frames before encoding (a reused dense run's from DIR/dense.frames): H.264 can turn a
small difference into none, and a determinism check must see it.
)";

struct Run {
  std::filesystem::path video_path;
  nlohmann::json record;
  Video video;  // read back from video_path
  Video rendered;  // as generated, before encoding (a reused run's from dense.frames)
  bool reused = false;
};

// JSON has no infinity: identical frames are written as the string "inf".
nlohmann::json psnr_json(double psnr_db) {
  if (std::isinf(psnr_db)) return "inf";
  return psnr_db;
}

// The dense run in `dir` when its record matches `wanted` (core/pipeline/dense_run_cache.h).
std::optional<Run> cached_dense_run(const std::filesystem::path& dir, const nlohmann::json& wanted,
                                    TerminalProgress& progress) {
  std::string note;
  std::optional<CachedDenseRun> cached = find_cached_dense_run(dir, wanted, &note);
  if (!note.empty()) progress.on_log(note);
  if (!cached) return std::nullopt;
  Run run;
  run.video_path = cached->video_path;
  run.record = std::move(cached->record);
  run.video = std::move(cached->video);
  run.rendered = std::move(cached->frames);
  run.reused = true;
  return run;
}

// Thrown when Ctrl-C stopped a run; cmd_compare exits with InterruptCancel::exit_status().
struct CompareCancelled {};
// Thrown when a run failed, its error already printed by the progress sink; cmd_compare exits with
// `exit_code` (3: an internal error, a bug to report).
struct CompareRunFailed {
  int exit_code = 2;
};

// `described` are files that describe the run at `output` being replaced (the dense frames, the
// report): removed once this run has finished, before its video replaces that run's, so that none
// outlives it beside the new one, while a cancelled run leaves the earlier one whole. A write that
// fails leaves the earlier video and its record, a dense run the next compare can reuse; a kill
// between the new video and its record leaves the earlier record, whose checksum the new video
// does not match, so it is not reused.
Run generate(Model& model, const GenerationRequest& request, const std::filesystem::path& output,
             TerminalProgress& progress, const CancelToken& cancel,
             const std::vector<std::filesystem::path>& described = {}) {
  Generator generator(model);
  GenerationResult result = generator.run(request, progress, cancel);
  if (result.status == GenerationStatus::Cancelled) throw CompareCancelled{};
  if (result.status != GenerationStatus::Finished) throw CompareRunFailed{result.error_is_internal ? 3 : 2};
  Run run;
  run.record = make_run_record(result, model);
  {
    const InterruptsHeld held;  // a second Ctrl-C waits for the files, not tears them
    for (const std::filesystem::path& file : described) {
      std::error_code ec;
      if (!std::filesystem::remove(file, ec) && ec) throw UserError("cannot replace " + file.string() + ": " + ec.message());
    }
    const VideoOutputResult written = write_video(result.video, output);
    if (!written.note.empty()) progress.on_log(written.note);
    run.video_path = written.path;
    write_run_record(written, run.record);
  }
  run.video = read_video(run.video_path);
  crop_mp4_padding(run.video, result.video.height, result.video.width);  // an odd size's padding row or column
  run.rendered = std::move(result.video);
  return run;
}

// Compare's other files in --out replace only what an earlier compare wrote there, since the user
// named the folder, not them (its videos: check_output_replaces_only_a_run): a frame archive (by
// its first bytes) and a report (a JSON object with a report's mode and request). Checked before
// any work.
void check_only_a_compare_is_replaced(const std::filesystem::path& out) {
  const auto refuse = [&](const std::filesystem::path& file, const std::string& why) {
    throw UserError("'" + file.string() + "' exists and " + why + ": the compare would replace it. Choose an empty or "
                    "new folder for --out, or move the file.");
  };
  std::error_code ec;
  const std::filesystem::path frames = out / kDenseFramesFile;
  // An empty file holds nothing to lose (a copy cut short at its start, a `touch`).
  if (std::filesystem::exists(frames, ec) && !is_frame_archive(frames) && !std::filesystem::is_empty(frames, ec)) {
    refuse(frames, "is not a frame archive of ours");
  }
  const std::filesystem::path report = out / "report.json";
  if (std::filesystem::exists(report, ec)) {
    // A report's own shape, not two of its keys: {"mode": 1, "request": 2} is a user's file. Reports
    // hold a few numbers per frame: one past 16 MB is not ours either.
    const nlohmann::json j = read_json_if_small(report, uintmax_t(16) << 20);
    const auto object = [&](const char* key) { return j.contains(key) && j[key].is_object(); };
    const bool ours = j.is_object() && j.contains("mode") && j["mode"].is_string() && object("request") &&
                      object("dense") && object("sparse") && object("quality");
    if (!ours) refuse(report, "is not a compare report");
  }
}

nlohmann::json quality_json(const VideoQuality& quality, const char* frames_from) {
  nlohmann::json psnr = nlohmann::json::array();
  for (double p : quality.psnr_db) psnr.push_back(psnr_json(p));
  return {{"frames_from", frames_from},
          {"psnr_db", psnr},
          {"ssim", quality.ssim},
          {"mean_psnr_db", psnr_json(quality.mean_psnr_db)},
          {"mean_ssim", quality.mean_ssim},
          {"identical_frames", quality.identical_frames}};
}

// "PSNR 31.42 dB over the 7 frames that differ, SSIM 0.9712 (mean of 8 frames, 1 identical)"
std::string quality_line(const VideoQuality& quality) {
  const int frames = int(quality.psnr_db.size());
  const int differing = frames - quality.identical_frames;
  const std::string psnr_over =
      quality.identical_frames > 0 && differing > 0
          ? differing == 1 ? " over the 1 frame that differs" : " over the " + std::to_string(differing) + " frames that differ"
          : "";
  char ssim[96];
  if (frames == 1) {
    std::snprintf(ssim, sizeof ssim, ", SSIM %.4f (1 frame%s)", quality.mean_ssim,
                  quality.identical_frames == 1 ? ", identical" : "");
  } else {
    std::snprintf(ssim, sizeof ssim, ", SSIM %.4f (mean of %d frames, %d identical)", quality.mean_ssim, frames,
                  quality.identical_frames);
  }
  return "PSNR " + format_psnr_db(quality.mean_psnr_db) + psnr_over + ssim;
}

}  // namespace

int cmd_compare(int argc, char** argv) {
  CliArgs args(argc, argv, 2);
  const std::string help = std::string(kUsage) + kRequestOptionsHelp + kOwnHelp;
  if (args.flag("help")) {
    std::fputs(help.c_str(), stdout);
    return 0;
  }
  RequestOptions options = read_request_options(args, AttentionMode::SvgEar);
  options.request.preview_every = 0;  // nobody watches previews here; they only cost time
  const bool quiet = args.flag("quiet");
  const bool no_cache = args.flag("no-cache");
  const auto out_arg = args.text("out");
  args.finish();
  require_prompt(options, help);

  if (out_arg && out_arg->empty()) throw UserError("--out needs a folder (for dense.mp4, <mode>.mp4 and report.json)");
  const std::filesystem::path out =
      out_arg ? std::filesystem::path(*out_arg) : std::filesystem::path("out") / ("compare-" + std::to_string(options.request.seed));
  if (std::error_code ec; std::filesystem::is_regular_file(out, ec)) {
    throw UserError("--out takes a folder (for dense.mp4, <mode>.mp4 and report.json): '" + out.string() +
                    "' is a file, not a folder");
  }
  check_output_folder(out);  // before the model: a bad folder costs no load, and nothing is created yet
  // Dense against dense checks determinism; its second video must not overwrite the first.
  const AttentionMode sparse_mode = options.request.attention.mode;
  const std::string sparse_name = sparse_mode == AttentionMode::Dense ? "dense-rerun" : attention_mode_name(sparse_mode);
  // Likewise what goes in it: a folder named dense.mp4 or report.json, a JSON that is not a record.
  for (const std::string& name : {std::string("dense"), sparse_name}) {
    check_video_output(out / (name + ".mp4"));
    check_output_replaces_only_a_run(out / (name + ".mp4"), false);
  }
  check_output_file(out / "report.json");
  check_output_file(out / kDenseFramesFile);
  check_only_a_compare_is_replaced(out);
  const std::filesystem::path model_dir = model_folder_or_default(options.model_folder, quiet);
  if (out_arg) refuse_inside_model_folder(out, model_dir, "--out");
  (void)resolve_typed_request(options.request, read_model_manifest(model_dir));  // nor a bad size or step count
  TerminalProgress progress(quiet);
  options.model_options.on_progress = [&progress](const LoadStep& step) { progress.on_load(step); };
  std::unique_ptr<Model> model = Model::load(model_dir, parse_device(options.device_name), options.model_options);
  progress.on_log("model " + printable(model->manifest.name, false) + " on " + model->device.str());  // one line

  const GenerationRequest sparse_request = options.request.resolve(model->manifest);
  GenerationRequest dense_request = sparse_request;
  dense_request.attention.mode = AttentionMode::Dense;
  const std::string mode = attention_mode_name(sparse_request.attention.mode);

  const nlohmann::json wanted = dense_cache_key(dense_request, *model);

  const FoldersMade made(out);
  create_output_folder(out);
  // Two compares in one folder would replace each other's dense run under the other's report.
  const FolderLock lock(out, "another `svgear compare`");
  std::optional<Run> dense = no_cache ? std::nullopt : cached_dense_run(out, wanted, progress);
  std::optional<Run> sparse;
  CancelToken cancel;
  // A run that wrote nothing leaves no folder it made (up to the outermost one).
  const auto remove_made_folders = [&] {
    if (!dense) made.remove_empty();
  };
  try {
    InterruptCancel interrupt(cancel);
    if (dense) {
      progress.on_log("reusing the dense run " + dense->video_path.string() + " (same request, model and device)");
    } else {
      progress.on_log("dense run");
      // The frames and the report of the run being replaced must not outlive it beside the new one
      // (a cancel or a failure of the sparse run would leave the report describing other videos).
      dense = generate(*model, dense_request, out / "dense.mp4", progress, cancel,
                       {out / kDenseFramesFile, out / "report.json"});
      const InterruptsHeld held;
      write_frame_archive(dense->rendered, out / kDenseFramesFile);
    }
    progress.on_log(sparse_name + " run");
    sparse = generate(*model, sparse_request, out / (sparse_name + ".mp4"), progress, cancel);
  } catch (const CompareCancelled&) {
    remove_made_folders();
    progress.on_log(dense ? "cancelled: the dense run stays in " + out.string() + " and will be reused; no report written"
                          : "cancelled during the dense run: nothing written");
    return InterruptCancel::exit_status();
  } catch (const CompareRunFailed& failed) {
    remove_made_folders();
    // The error itself is printed above, once.
    progress.on_log(dense ? "the " + mode + " run failed: the dense run stays in " + out.string() +
                                " and will be reused; no report written"
                          : "the dense run failed: nothing written");
    return failed.exit_code;
  }

  const VideoQuality quality = compare_videos(dense->video, sparse->video);
  const VideoQuality rendered_quality = compare_videos(dense->rendered, sparse->rendered);
  const double dense_step_ms = mean_step_ms_after_first(dense->record);
  const double sparse_step_ms = mean_step_ms_after_first(sparse->record);
  const double speedup = sparse_step_ms > 0.0 ? dense_step_ms / sparse_step_ms : 0.0;
  const auto first_step_ms = [](const nlohmann::json& record) {
    return record.at("timings_ms").at("steps").at(0).get<double>();
  };
  const double dense_first_ms = first_step_ms(dense->record);
  const double sparse_first_ms = first_step_ms(sparse->record);

  nlohmann::json report;
  report["svgear_version"] = SVGEAR_VERSION;
  report["created"] = utc_now();
  report["mode"] = mode;
  report["request"] = sparse_request.to_json();
  report["attention"] = attention_config_to_json(sparse_request.attention);
  report["model"] = model->manifest.name;
  report["device"] = model->device.str();
  // Files named from the report's folder, as a run record names its video: paths from the working
  // folder ("../cmp/dense.mp4") were wrong once read from anywhere else.
  report["dense"] = {{"video", dense->video_path.filename().string()},
                     {"record", run_record_path(dense->video_path).filename().string()},
                     {"reused", dense->reused},
                     {"timings_ms", dense->record.at("timings_ms")},
                     {"ms_per_step", dense_step_ms},
                     {"first_step_ms", dense_first_ms}};
  report["sparse"] = {{"video", sparse->video_path.filename().string()},
                      {"record", run_record_path(sparse->video_path).filename().string()},
                      {"timings_ms", sparse->record.at("timings_ms")},
                      {"ms_per_step", sparse_step_ms},
                      {"first_step_ms", sparse_first_ms}};
  report["quality"] = quality_json(quality, "decoded from the written videos");
  report["quality_before_encoding"] = quality_json(rendered_quality, "as generated, before encoding");
  report["speedup_per_step"] = speedup;
  const std::string vae_warning = vae_fallback_warning(dense->record, sparse->record);
  if (!vae_warning.empty()) progress.on_warning(vae_warning);
  // What the runs warned of stays with their numbers: a sparse mode that made no sparse call (its
  // warm-up covers every step) timed dense attention under its own name.
  if (!progress.warnings().empty()) report["warnings"] = progress.warnings();
  const std::filesystem::path report_path = out / "report.json";
  write_json_atomically(report_path, report);

  // Each row's speedup in its own column, dense over sparse, to three significant digits: a CPU
  // sparse run at 0.004x had read "0.00x".
  const auto row = [](const char* label, double dense_value, double sparse_value, int decimals) {
    char speedup_text[32] = "-";
    if (sparse_value > 0.0) std::snprintf(speedup_text, sizeof speedup_text, "%.3gx", dense_value / sparse_value);
    std::printf("%-20s %12.*f %12.*f %9s\n", label, decimals, dense_value, decimals, sparse_value, speedup_text);
  };
  std::printf("%-20s %12s %12s %9s\n", "", "dense", sparse_name.c_str(), "speedup");
  // A one-step run has no later step: its only step's time, one-time costs included, said so.
  const bool one_step = sparse_request.steps && *sparse_request.steps == 1;
  row(one_step ? "only step ms" : "first step ms", dense_first_ms, sparse_first_ms, 1);
  if (!one_step) row("ms per later step", dense_step_ms, sparse_step_ms, 1);
  row("total s, text aside", total_ms_without_text_encoding(dense->record) / 1000.0,
      total_ms_without_text_encoding(sparse->record) / 1000.0, 2);
  if (one_step) {
    const bool sparse = sparse_request.attention.mode != AttentionMode::Dense;
    std::printf("the only step's times include one-time costs (the first call of each kernel%s)\n",
                sparse ? ", and the sparse run's first k-means" : "");
  }
  if (dense->reused) std::printf("dense run reused from %s: its times were measured when it ran\n", out.c_str());
  std::printf("%s, decoded from the written videos\n", quality_line(quality).c_str());
  std::printf("%s, before encoding\n", quality_line(rendered_quality).c_str());
  std::printf("wrote %s\n", report_path.c_str());
  return 0;
}

}  // namespace svgear
