// svgear generate: one text-to-video generation, written as a video plus a JSON run record.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/interrupt_cancel.h"
#include "app/request_options.h"
#include "app/terminal_progress.h"
#include "app/terminal_text.h"
#include "core/attention/attention_recorder.h"
#include "core/attention/sparse_schedule.h"
#include "core/io/atomic_file.h"
#include "core/io/file_name_limit.h"
#include "core/io/folder_lock.h"
#include "core/io/unique_name.h"
#include "core/media/video_output.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/model_manifest.h"
#include "core/pipeline/previous_run_backup.h"
#include "core/pipeline/routing_trace_file.h"
#include "core/pipeline/run_record.h"
#include "core/user_error.h"

namespace svgear {
namespace {

constexpr const char* kUsage = "usage: svgear generate --prompt TEXT [options]\n\n";
constexpr const char* kOwnHelp = R"(  --attention MODE   dense | svg2 | svgear (default dense, or the preset's mode)
  --output PATH      .mp4, .y4m, or a folder for PNG frames (default out/svgear-<seed>.mp4, or -2, -3, …
                     when an earlier run holds it). A folder's frame_NNNN.png are replaced only when
                     its run record says an svgear run wrote them
  --quiet            no progress lines or notes: warnings, errors and the lines naming the files written
  --dump-attention F.safetensors   save the q, k, v of one self-attention call (conditional branch)
                     for `svgear bench attention --inputs F.safetensors`
  --dump-layer N     --dump-step N   which call, both counted from 0 (step 0 is the progress
                     line's step 1; default: the middle layer at the middle step)
  --trace FILE.json  write what svg2 / svgear decided at every sparse step (format
                     "svgear-routing-trace/1", docs/architecture.md; the studio's File > Open
                     routing trace shows it): clusters, labels, block map, the probe's error
                     estimates, density, phase times; written as the steps come. Not with dense
                     attention, nor inside the model's folder; it replaces only an earlier trace.
                     Tracing stops, keeping its steps, where it would leave its disk under 1 GB
  --trace-layers SEL --trace-heads SEL   which ones, e.g. 0,3-5 (default all; a Wan-1.3B step
                     traced in every layer and head is ~1 GB of JSON)
  --audit            also run each traced layer densely and record the true error of its output
                     (slower; tracing alone syncs the GPU between phases, so timings include it)
Ctrl-C, SIGTERM or SIGHUP stops the current step at its next DiT block (on a CPU also within a long
attention call; the final decode after its latent frame) and keeps the last finished step's
estimate of the clip, decoded then, as <output>-partial (none before the first step finished; with --trace, the routing so far as <trace>-partial.json); a
second one during the final writes of the video and its record
waits for them, otherwise it ends the process at once (and deletes an unfinished trace). A stopped
run exits with 128 + the first signal's number: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP.
)";

// "out/clip.mp4" → "out/clip-partial.mp4"; a PNG folder keeps its whole name and its slash
// ("frames.v2/" → "frames.v2-partial/"). A name near the file system's limit is cut so that the
// new name and its run record (".json") still fit.
std::filesystem::path with_suffix(const std::filesystem::path& path, const std::string& suffix) {
  std::filesystem::path p = path;
  if (p.filename().empty()) p = p.parent_path();
  const size_t record_extension = std::string(".json").size();
  if (video_format_for(path) == VideoFormat::PngFrames) {
    return p.parent_path() / (cut_file_stem(p.filename().string(), suffix.size() + record_extension) + suffix) / "";
  }
  const std::string extension = p.extension().string();
  const size_t tail = suffix.size() + std::max(extension.size(), record_extension);
  return p.parent_path() / (cut_file_stem(p.stem().string(), tail) + suffix + extension);
}

// Before any work, as the video's path: the dump and the trace are written mid-run.
void check_outside_model_folder(const std::filesystem::path& file, const std::filesystem::path& model_dir,
                                const std::string& option) {
  try {
    check_output_file(file);
  } catch (const UserError& e) {  // which of the run's files it is: the message names only a folder
    throw UserError(option + " '" + file.string() + "': " + e.what());
  }
  refuse_inside_model_folder(file, model_dir, option);
}

// Default outputs are out/svgear-<seed>.mp4, or the first of out/svgear-<seed>-2.mp4, -3, … that no
// earlier run holds: a name the user did not choose must not replace an earlier result (seeds
// repeat, 0 most of all). The n-th name without its extension:
std::filesystem::path default_stem(uint64_t seed, int n) {
  const std::string stem = "svgear-" + std::to_string(seed);
  return std::filesystem::path("out") / (n == 1 ? stem : stem + "-" + std::to_string(n));
}

// Whether an earlier run holds a default name: its video or partial video, or either's record.
bool default_name_taken(const std::filesystem::path& stem) {
  std::error_code ec;
  for (const char* suffix : {".mp4", "-partial.mp4"}) {
    const std::filesystem::path video = video_output_path(std::filesystem::path(stem) += suffix);
    if (std::filesystem::exists(video, ec) || std::filesystem::exists(run_record_path(video), ec)) return true;
  }
  return false;
}

std::filesystem::path default_output(uint64_t seed) {
  int n = 1;
  while (default_name_taken(default_stem(seed, n))) ++n;
  return std::filesystem::path(default_stem(seed, n)) += ".mp4";
}

// A default output's video is written in a hidden folder of its own (`written`) and given the first
// free default name (its partial name for a cancelled run) only then, by a rename that replaces
// nothing: a name taken while the run went on (another run of the same seed, in the same folder) is
// passed over, so two runs at once each keep their video.
std::filesystem::path move_to_default_name(const std::filesystem::path& written, uint64_t seed, bool partial) {
  for (int n = 1;; ++n) {
    const std::filesystem::path stem = default_stem(seed, n);
    if (default_name_taken(stem)) continue;
    std::filesystem::path target = stem;
    target += partial ? "-partial" : "";
    target += written.extension();
    std::error_code ec;
    if (rename_without_replacing(written, target, ec)) {
      sync_folder(target.parent_path());
      return target;
    }
    if (ec) throw UserError("cannot write '" + target.string() + "': " + ec.message());
  }
}

// The hidden folders a default output's video is written in before it takes its name; a run killed
// in between leaves one, which a later run removes (unique_name.h).
constexpr std::string_view kUnnamedVideoPrefix = ".svgear-";
// How long a run waits for another to finish writing its video and record in the same folder (a
// Wan clip's encoding takes seconds); a folder held longer (a training run's) is written unlocked.
constexpr std::chrono::milliseconds kCommitPatience(60000);

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code a_error, b_error;
  const std::filesystem::path x = std::filesystem::weakly_canonical(a, a_error);
  const std::filesystem::path y = std::filesystem::weakly_canonical(b, b_error);
  if (a_error || b_error) return std::filesystem::absolute(a).lexically_normal() == std::filesystem::absolute(b).lexically_normal();
  return x == y;
}

// Whether `text` begins as a routing trace does: {"format": "svgear-routing-trace/..., its
// "format" first (as the reader requires), with any JSON whitespace between the tokens (a trace
// pretty-printed by `python3 -m json.tool` is one).
bool starts_as_a_routing_trace(std::string_view text) {
  for (const std::string_view token : {"{", "\"format\"", ":", "\"svgear-routing-trace/"}) {
    text.remove_prefix(std::min(text.find_first_not_of(" \t\n\r"), text.size()));
    if (!text.starts_with(token)) return false;
    text.remove_prefix(token.size());
  }
  return true;
}

// The trace replaces only an earlier trace: a JSON file of any other kind by its name (a preset, a
// run record, a model's manifest) is refused. The first bytes say which it is, even of a 40 GB trace.
void check_trace_path(const std::filesystem::path& trace, const std::filesystem::path& model_dir) {
  if (trace.extension() != ".json") {
    throw UserError("--trace '" + trace.string() + "': the routing trace is JSON; give a path ending in .json");
  }
  check_outside_model_folder(trace, model_dir, "--trace");
  std::error_code ec;
  if (!std::filesystem::exists(trace, ec)) return;
  std::string start(4096, '\0');  // room for a pretty-printer's indentation
  std::ifstream file(trace, std::ios::binary);
  if (!file) throw UserError("--trace '" + trace.string() + "' exists and cannot be read: " + std::strerror(errno));
  file.read(start.data(), std::streamsize(start.size()));
  start.resize(size_t(file.gcount()));
  if (!starts_as_a_routing_trace(start)) {
    throw UserError("--trace '" + trace.string() + "' exists and does not begin as a routing trace does ({\"format\": "
                    "\"svgear-routing-trace/…\"), so it is not replaced: choose another name");
  }
}

// The terminal's progress, and with --trace each step's routing streamed into the trace file. The
// file opens with the first traced step (a run stopped before it leaves nothing), a second Ctrl-C
// removes it (InterruptCancel::remove_on_forced_exit), and a write that fails (a full disk) drops
// the trace with a warning, not the generation: it is a diagnostic beside the video.
class TracingProgress : public TerminalProgress {
 public:
  TracingProgress(bool quiet, std::optional<std::filesystem::path> path) : TerminalProgress(quiet), path_(std::move(path)) {}

  // Tracing stops, its steps so far kept, where the next step would leave its disk less than
  // kTraceDiskReserve: a Wan step traced whole takes ~1 GB, and a full disk would cost the video.
  void on_routing(RoutingEvent step) override {
    if (!path_ || dropped_ || out_of_room_) return;
    try {
      open();
      const uint64_t before = file_->bytes();
      if (file_->steps() > 0) {
        const std::string stop = routing_trace_out_of_room(step_bytes_, file_->steps(), available());
        if (!stop.empty()) {
          out_of_room_ = true;
          on_warning(stop);
          return;
        }
      }
      const bool first = file_->steps() == 0;
      file_->add(step);
      step_bytes_ = file_->bytes() - before;
      if (first) {
        const TraceSizeNote note = routing_trace_size_note(step_bytes_, step.num_steps - step.step, available());
        if (note.wont_fit) {
          on_warning(note.text);
        } else if (!note.text.empty()) {
          on_log(note.text);
        }
      }
    } catch (const UserError& e) {
      drop(e.what());
    }
  }

  // Puts the steps traced so far in place at `path` (beside the --trace path), checked again first:
  // a file made at that name during the run is kept. False, after a warning, when there is none.
  bool commit(const std::filesystem::path& path, const std::filesystem::path& model_dir) {
    if (!path_ || dropped_) return false;
    try {
      check_trace_path(path, model_dir);
      open();  // no traced step (all dense): an empty trace still says so
      file_->commit_as(path);
    } catch (const UserError& e) {
      drop(e.what());
      return false;
    }
    InterruptCancel::remove_on_forced_exit(nullptr);
    return true;
  }

  int steps() const { return file_ ? file_->steps() : 0; }

 private:
  void open() {
    if (file_) return;
    file_.emplace(*path_);
    temp_ = file_->temp_path().string();
    InterruptCancel::remove_on_forced_exit(temp_.c_str());
  }

  // Free bytes on the trace's disk (as many as it takes when the file system cannot say).
  uint64_t available() const {
    std::error_code ec;
    const std::filesystem::space_info space = std::filesystem::space(file_->temp_path().parent_path(), ec);
    return ec ? UINT64_MAX : uint64_t(space.available);
  }

  void drop(const std::string& why) {
    InterruptCancel::remove_on_forced_exit(nullptr);
    file_.reset();
    dropped_ = true;
    on_warning("the routing trace is not written (" + why + "); the video and its run record still are");
  }

  std::optional<std::filesystem::path> path_;  // --trace
  std::optional<RoutingTraceFile> file_;
  std::string temp_;  // the temporary file's name, for the signal handler
  bool dropped_ = false;
  bool out_of_room_ = false;  // tracing stopped for the video's room; the steps so far are kept
  uint64_t step_bytes_ = 0;   // the last traced step's size
};

}  // namespace

int cmd_generate(int argc, char** argv) {
  CliArgs args(argc, argv, 2);
  const std::string help = std::string(kUsage) + kRequestOptionsHelp + kOwnHelp;
  if (args.flag("help")) {
    std::fputs(help.c_str(), stdout);
    return 0;
  }
  RequestOptions options = read_request_options(args, AttentionMode::Dense);
  GenerationRequest& request = options.request;
  // Nothing shows previews here: the partial result a Ctrl-C keeps is decoded when it comes.
  request.preview_every = 0;
  request.keep_estimate = true;
  if (const auto dump = args.text("dump-attention")) {
    request.dump_attention = GenerationRequest::AttentionDump{*dump, args.integer("dump-layer"), args.integer("dump-step")};
  } else if (args.integer("dump-layer") || args.integer("dump-step")) {
    throw UserError("--dump-layer and --dump-step need --dump-attention FILE.safetensors");
  }
  const auto trace_arg = args.text("trace");
  const auto trace_layers = args.text("trace-layers");
  const auto trace_heads = args.text("trace-heads");
  const bool audit = args.flag("audit");
  const bool quiet = args.flag("quiet");
  const auto output_arg = args.text("output");
  args.finish();
  require_prompt(options, help);
  // Unix's name for the standard output, which had made a PNG folder named "-".
  if (output_arg && *output_arg == "-") {
    throw UserError("--output -: svgear writes files, not the standard output; give a video file (clip.mp4) or a "
                    "folder for PNG frames (frames/)");
  }
  std::optional<std::filesystem::path> trace;
  if (trace_arg) {
    if (trace_arg->empty()) throw UserError("--trace needs a path (FILE.json)");
    if (request.attention.mode == AttentionMode::Dense) {
      throw UserError("--trace records what sparse attention decides, and dense attention decides nothing: "
                      "add --attention svgear (or svg2)");
    }
    trace = *trace_arg;
    request.routing_trace.enabled = true;
    const auto selection = [](const char* option, const std::string& text) {
      // The studio's empty box means all; an empty value here is more likely an unset variable.
      if (std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); })) {
        throw UserError(std::string(option) + " is empty: type all, or numbers and ranges such as 0,3-5");
      }
      try {
        return parse_trace_selection(text);
      } catch (const UserError& e) {
        throw UserError(std::string(option) + ": " + e.what());
      }
    };
    if (trace_layers) request.routing_trace.layers = selection("--trace-layers", *trace_layers);
    if (trace_heads) request.routing_trace.heads = selection("--trace-heads", *trace_heads);
  } else if (trace_layers || trace_heads || audit) {
    throw UserError("--trace-layers, --trace-heads and --audit choose what --trace FILE.json records: add --trace");
  }
  if (output_arg && output_arg->empty()) throw UserError("--output needs a path (.mp4, .y4m, or a folder/ for PNG frames)");

  const std::filesystem::path model_dir = model_folder_or_default(options.model_folder, quiet);
  std::filesystem::path output = output_arg ? std::filesystem::path(*output_arg) : default_output(request.seed);
  // "." and ".." (also "./", "out/../") are PNG folders named only through the current one: spelled
  // out, their record and partial folder sit beside them as any folder's do ("/w/clips/" →
  // "/w/clips.json"), not as hidden "..json" files.
  const std::filesystem::path last = (output.has_filename() ? output : output.parent_path()).filename();
  if (last == "." || last == "..") output = std::filesystem::absolute(output).lexically_normal();

  // Before any work: a path the writer would refuse must not cost a whole generation (nor the
  // partial result a Ctrl-C keeps beside it).
  const std::filesystem::path partial = with_suffix(output, "-partial");
  const std::filesystem::path trace_partial = trace ? with_suffix(*trace, "-partial") : std::filesystem::path();
  check_video_output(output);
  if (output_arg) refuse_inside_model_folder(output, model_dir, "--output");
  check_output_replaces_only_a_run(output);
  try {
    check_video_output(partial);
    check_output_replaces_only_a_run(partial, false);
  } catch (const UserError& e) {  // a name the user never gave: say why it matters
    throw UserError(std::string(e.what()) + "\n(" + video_output_path(partial).string() +
                    " is where a Ctrl-C would keep the partial result of " + output.string() + ")");
  }
  if (request.dump_attention) {
    check_outside_model_folder(request.dump_attention->path, model_dir, "--dump-attention");
    check_attention_dump_path(request.dump_attention->path);
  }
  if (trace) {
    check_trace_path(*trace, model_dir);
    try {
      check_trace_path(trace_partial, model_dir);
    } catch (const UserError& e) {  // a name the user never gave: say why it matters
      throw UserError(std::string(e.what()) + "\n(" + trace_partial.string() + " is where a Ctrl-C would keep the " +
                      "routing traced until then)");
    }
    for (const std::filesystem::path& output_file :
         {video_output_path(output), run_record_path(video_output_path(output)), video_output_path(partial),
          run_record_path(video_output_path(partial))}) {
      if (same_file(*trace, output_file) || same_file(trace_partial, output_file)) {
        throw UserError("--trace '" + trace->string() + "' would share a name with the video or its run record (" +
                        output_file.string() + "): choose another name");
      }
    }
  }
  // And the request against the model's manifest: a bad size, step count or traced layer costs no
  // weight load.
  const ModelManifest manifest = read_model_manifest(model_dir);
  if (audit) {
    for (int layer = 0; layer < manifest.dit.num_layers; ++layer) request.routing_trace.audit_layers.push_back(layer);
  }
  const GenerationRequest resolved = resolve_typed_request(request, manifest);

  TracingProgress progress(quiet, trace);
  if (const std::string note = mp4_fallback_note(output); !note.empty()) progress.on_warning(note);
  // Traced layers that run dense have no routing (a selection of only those is refused by resolve).
  // A trace asked for by name that would hold nothing for a reason known now is refused here; the
  // studio's traces (its Routing panel's) just stay empty.
  if (trace) {
    const int layers = manifest.dit.num_layers;
    const int dense = dense_layer_count(resolved.attention.dense_layers, layers);
    const int steps = *resolved.steps;
    if (dense_step_count(resolved.attention.dense_warmup_steps, steps) >= steps) {
      throw UserError("--trace would hold nothing: all " + std::to_string(steps) +
                      " steps run dense attention (a dense warm-up of " +
                      shown_number(resolved.attention.dense_warmup_steps) + " of the steps); lower --dense-steps");
    }
    if (request.routing_trace.layers.empty() && dense >= layers) {
      throw UserError("--trace would hold nothing: all " + std::to_string(layers) + " layers run dense attention (the "
                      "dense-layers fraction " + shown_number(resolved.attention.dense_layers) +
                      ", at least one layer); lower --dense-layers");
    }
    std::string untraced;
    int count = 0;
    for (const int layer : request.routing_trace.layers) {
      if (layer >= dense) continue;
      untraced += (untraced.empty() ? "" : ", ") + std::to_string(layer);
      ++count;
    }
    if (count > 0) {
      progress.on_warning("--trace-layers: layer" + std::string(count == 1 ? " " : "s ") + untraced +
                          (count == 1 ? " runs" : " run") + " dense attention (the first " + std::to_string(dense) +
                          " of " + std::to_string(layers) + " layers do), so the trace has no routing "
                          "of " + (count == 1 ? "it" : "them"));
    }
  }
  options.model_options.on_progress = [&progress](const LoadStep& step) { progress.on_load(step); };
  std::unique_ptr<Model> model = Model::load(model_dir, parse_device(options.device_name), options.model_options);
  progress.on_log("model " + printable(model->manifest.name, false) + " on " + model->device.str());  // one line

  CancelToken cancel;
  // Through the writes too: a signal there lets the video and its record be finished, not torn.
  // Declared after `progress`, so it is gone before the trace's temporary file it may name.
  InterruptCancel interrupt(cancel);
  const GenerationResult result = Generator(*model).run(request, progress, cancel);

  if (result.status == GenerationStatus::Failed) return result.error_is_internal ? 3 : 2;
  if (const auto& dump = result.request.dump_attention; dump && result.attention_dumped) {
    std::printf("wrote the q, k, v of layer %d at step %d to %s\n", *dump->layer, *dump->step, dump->path.c_str());
  }
  const bool cancelled = result.status == GenerationStatus::Cancelled;
  if (cancelled && result.video.empty()) return InterruptCancel::exit_status();  // nothing to keep, the generator says
  // The trace before the held writes: its flush may take long (gigabytes for a Wan run).
  const std::filesystem::path trace_path = !trace ? std::filesystem::path() : cancelled ? trace_partial : *trace;
  const bool traced = progress.commit(trace_path, model_dir);
  // The fallback's note was the warning before the work; the line below names the file.
  VideoOutputResult written;
  {
    // Two runs given one --output write their videos and records one after the other: each pair had
    // been whole, but interleaved one run's video had stayed beside the other's record. The lock is
    // on the folder holding the video (a PNG folder's own parent), when it exists already; waited
    // for before the signals are held, so a second Ctrl-C still ends the wait at once.
    std::optional<FolderLock> committing;  // released after the backup's links are dropped
    const std::filesystem::path target = video_output_path(cancelled ? partial : output);
    if (output_arg) {
      std::filesystem::path named = std::filesystem::absolute(target).lexically_normal();
      if (!named.has_filename()) named = named.parent_path();  // "frames/"
      committing.emplace(named.parent_path(), kCommitPatience);
    }
    const InterruptsHeld held;  // a second Ctrl-C waits for the files, not tears them
    std::optional<PreviousRunBackup> previous;
    if (output_arg) {
      previous.emplace(target);
      written = write_video(result.video, cancelled ? partial : output);
    } else {
      const std::filesystem::path folder = output.parent_path();
      std::error_code ec;
      std::filesystem::create_directories(folder, ec);
      remove_abandoned(folder, kUnnamedVideoPrefix);
      const std::filesystem::path staging = create_unique_folder(folder, kUnnamedVideoPrefix, ec);
      if (ec) throw UserError("cannot write in '" + folder.string() + "': " + ec.message());
      try {
        written = write_video(result.video, staging / "video.mp4");
        written.path = move_to_default_name(written.path, result.request.seed, cancelled);
      } catch (...) {
        std::filesystem::remove_all(staging, ec);
        throw;
      }
      std::filesystem::remove(staging, ec);
    }
    nlohmann::json record = make_run_record(result, *model);
    // Side outputs are named relative to the record, as a video's file is.
    const std::filesystem::path record_folder = std::filesystem::absolute(run_record_path(written.path)).parent_path();
    const auto from_record = [&](const std::filesystem::path& path) {
      const std::filesystem::path relative = std::filesystem::absolute(path).lexically_relative(record_folder);
      return (relative.empty() ? std::filesystem::absolute(path) : relative).string();
    };
    if (traced) {
      // What was traced, as selected ("all" for every one). Its phase times, and with --audit its
      // dense reruns, are in the step times.
      const auto selection = [](const std::vector<int>& chosen) {
        return chosen.empty() ? nlohmann::json("all") : nlohmann::json(chosen);
      };
      record["routing_trace"] = {{"file", from_record(trace_path)},
                                 {"steps", progress.steps()},
                                 {"layers", selection(request.routing_trace.layers)},
                                 {"heads", selection(request.routing_trace.heads)},
                                 {"audited", audit}};
    }
    if (const auto& dump = result.request.dump_attention; dump && result.attention_dumped) {
      record["attention_dump"] = {{"file", from_record(dump->path)}, {"layer", *dump->layer}, {"step", *dump->step}};
    }
    try {
      write_run_record(written, record);
    } catch (const UserError& e) {  // a full disk: the video is there, and the user should know it
      if (const PreviousRunBackup::Restored restored = previous ? previous->restore() : PreviousRunBackup::Restored();
          !restored.aside.empty()) {
        throw UserError("could not write the run record of " + written.path.string() + ": " + e.what() + "\n" +
                        (!restored.had_earlier    ? "This"
                         : !restored.earlier_back ? "The earlier video or its record could not be put back; this"
                         : restored.with_record   ? "The earlier video and its record are back in place; this"
                                                  : "The earlier video is back in place; this") +
                        " run's video is " + restored.aside.string() + ", without a record.");
      }
      // A PNG folder without its record is no longer svgear's to replace: the next run would refuse
      // it, so that is said now.
      throw UserError("wrote " + written.path.string() + ", but not its run record: " + e.what() +
                      (written.format == VideoFormat::PngFrames
                           ? "\nIts frames stay there without a record, so a later run will not replace them: "
                             "remove the folder (or choose another --output) before running again."
                           : ""));
    }
    // Still held: a second Ctrl-C during the writes ends the process after these lines, which name
    // what it keeps.
    const std::filesystem::path record_path = run_record_path(written.path);
    // The seed too: with --seed random the record would be the only place that names it.
    std::printf("%s %s%s (%d frame%s, %dx%d, %g fps, seed %llu) in %.1f s; settings in %s\n",
                cancelled ? "wrote partial" : "wrote", written.format == VideoFormat::PngFrames ? "PNG frames in " : "",
                written.path.c_str(), result.video.frames,
                result.video.frames == 1 ? "" : "s", result.video.width, result.video.height, result.video.fps,
                static_cast<unsigned long long>(result.request.seed), result.timings.total_ms / 1000.0,
                record_path.c_str());
    if (written.format == VideoFormat::Mp4 && !written.note.empty()) progress.on_log(written.note);  // odd sides
    if (traced && progress.steps() == 0) {
      // Cancelled: a sparse step may have been running; the dense settings are not why.
      std::printf("wrote %s without steps: %s\n", trace_path.c_str(),
                  cancelled ? "the run was cancelled before a sparse step finished"
                            : "no step ran sparse attention (see --dense-steps and --dense-layers)");
    } else if (traced) {
      std::printf("wrote the routing of %d step%s to %s\n", progress.steps(), progress.steps() == 1 ? "" : "s",
                  trace_path.c_str());
    }
  }
  return cancelled ? InterruptCancel::exit_status() : 0;
}

}  // namespace svgear
