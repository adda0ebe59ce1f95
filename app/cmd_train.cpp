// svgear train: train a built-in shapes-world model; rerunning the same command resumes it.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include <nlohmann/json.hpp>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/interrupt_cancel.h"
#include "app/request_options.h"
#include "core/cancel_token.h"
#include "core/io/atomic_file.h"
#include "core/io/bounded_json.h"
#include "core/io/file_extension.h"
#include "core/io/folder_lock.h"
#include "core/io/unique_name.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/model.h"
#include "core/pipeline/wan_folder.h"
#include "core/pipeline/out_of_memory.h"
#include "core/pipeline/weight_memory.h"
#include "core/shapes/scene.h"
#include "core/training/flow_matching_trainer.h"
#include "core/training/training_step_memory.h"
#include "core/user_error.h"

namespace svgear {
namespace {

constexpr const char* kHelp = R"(usage: svgear train [--preset shapes-s|shapes-l|shapes-tiny] --out DIR [options]

Trains a shapes-world model with the flow-matching objective (core/training). DIR receives
checkpoint/ (float32 weights, bf16 EMA and optimiser state in shards under 15 MiB, state.json),
loss.tsv (step, loss, learning rate, seconds) and model/ (model.json + EMA weights: `svgear generate --model DIR/model`). The same
command again resumes from the checkpoint and trains on to --steps in total; Ctrl-C, SIGTERM or SIGHUP
saves, exports and stops (exit code 128 + the signal's number: 130, 143 or 129).
  --out DIR              the run's folder: a new run, or one to resume (never a model's folder or
                         one inside it)
  --preset NAME          the model to train: shapes-s, shapes-l or shapes-tiny (a new run; a resume
                         takes the run's, --continue-from the source's)
  --steps N              total optimiser steps, the run's whole length, not N more (default 1000)
  --batch N              clips per step, 1 to 4096 (default 16)  --lr X        peak learning rate, ≥ 1e-10 (1e-3)
  --warmup N             linear warm-up steps (default 200)
  --seed N|random        data and init seed (default 1; random draws one, printed; a resume keeps the run's)
  --cooldown N           decay the learning rate linearly over the last N of --steps, the last step at
                         1/N of the rate the warm-up gives then, the peak once it is over (a run that
                         ships its weights ends this way; a new run from its export warms up again; a
                         resumed run keeps its window)
  --shift X              timestep shift of the training noise levels (default 3, Wan's; 1 = unshifted)
  --max-objects N        objects per training scene, 1 to N (default: the preset's; the eval prompts have 1)
  --object-weight X      loss weight of the objects' pixels against the background's (default 1: plain
                         mean squared error; objects cover a few percent of a clip)
  --text-layers N        the text encoder's transformer layers, 0 to 2 (a new run: default the
                         preset's, 2 for shapes-s/l; --continue-from / --init-from: default the
                         source's; a source without one (0 layers) keeps none unless N is given,
                         and grows N on its table; 0 = the table alone, as the models before it; 3
                         would not fit a shapes-s checkpoint in a device run)
  --text-position-std X  the std of the positions of a text transformer this run creates (a new
                         run's, or one grown on a 0-layer source; refused otherwise), 0 to 1
                         (default 0.5; 0 = zeros, as the run of 4a25c4b started: its replay passes
                         it; past 1, the token rows' std, a word's position would outweigh the word)
  --checkpoint-every N   steps between checkpoints (default 200)
  --log-every N          steps between printed losses (default 20)
  --minutes X            stop (and save) before a step that would end past X minutes of training
                         (judged by the run's steps so far; the first always runs), e.g. inside a
                         time-limited job (default 0: no limit)
  --stop-at N            stop (and save) at step N, before --steps, on --steps' schedule: what a slice
                         that --minutes cut inside its cool-down did (packaging/replay-training.py)
  --init-from MODEL_DIR  a new run starts from these weights (e.g. shapes-l from shapes-s's model/)
  --continue-from MODEL_DIR  a new run goes on from an export of the same preset (its step, recipe
                         and stages; fresh optimiser state and warm-up), e.g. the built-in shapes-s
                         (`svgear info` lists its folder)
  --commit HASH          the source commit, recorded in the run's stages (model.json)
  --device D             auto | cpu | cuda | cuda:N (default auto)
)";

constexpr const char* kLossHeader = "step\tloss\tlearning_rate\tseconds\n";

// The step of a loss.tsv line as log_line writes it (step, loss, learning rate, seconds: four
// numbers), or nothing for any other line.
std::optional<int64_t> loss_line_step(const char* line) {
  char* end = nullptr;
  const long long step = std::strtoll(line, &end, 10);
  if (end == line || *end != '\t' || step < 1) return std::nullopt;
  for (const char after : {'\t', '\t', '\0'}) {
    const char* field = end + 1;
    std::strtod(field, &end);
    if (end == field || *end != after) return std::nullopt;
  }
  return step;
}

struct ResumedLossLog {
  std::string log;
  int64_t left_out = 0;        // lines that are no loss lines, or whose steps go back
  int64_t first_left_out = 0;  // the first one's line number
  bool same_as_file = false;   // `log` is the file's text: a resume that trains nothing leaves it
};

// loss.tsv as a resumed run continues it: the header, and the lines up to the checkpoint's step.
// loss.tsv is written before the checkpoint, so a run stopped between the two has logged steps the
// checkpoint does not hold, which the resumed run logs again; a missing file restarts the header.
// Lines log_line does not write (edited, damaged) are left out and counted; one longer than any it
// writes is skipped unread, so a damaged file takes no memory of its size.
ResumedLossLog resumed_loss_log(const std::filesystem::path& path, int64_t checkpoint_step) {
  ResumedLossLog resumed{kLossHeader};
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return resumed;
  require_regular_file(path, "a checkpoint's loss.tsv");
  std::ifstream in(path, std::ios::binary);
  char line[256];
  int64_t last_step = 0;
  for (int64_t number = 1;; ++number) {
    in.getline(line, sizeof line);
    if (in.bad() || (in.eof() && in.gcount() == 0)) break;
    const bool whole = !in.fail();
    if (!whole) {  // longer than the buffer
      in.clear();
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    if (const size_t length = std::strlen(line); length > 0 && line[length - 1] == '\r') {
      line[length - 1] = '\0';  // an editor's line ends
    }
    if (number == 1 && whole && std::string(line) + "\n" == kLossHeader) continue;
    const std::optional<int64_t> step = whole ? loss_line_step(line) : std::nullopt;
    if (step && *step > last_step) {
      last_step = *step;
      if (*step <= checkpoint_step) resumed.log += std::string(line) + "\n";
    } else if (resumed.left_out++ == 0) {
      resumed.first_left_out = number;
    }
  }
  if (resumed.left_out == 0) {  // every line a loss line: as long as the log it is
    in.clear();
    in.seekg(0);
    resumed.same_as_file = std::string(std::istreambuf_iterator<char>(in), {}) == resumed.log;
  }
  return resumed;
}

// Whether a new run may replace `folder` (its out/model): empty, or what export_model writes (a
// model.json with a training record, model.safetensors), not a folder of the user's.
bool is_replaceable_export(const std::filesystem::path& folder) {
  std::error_code ec;
  bool empty = true;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name != "model.json" && name != "model.safetensors") return false;
    empty = false;
  }
  if (ec) return false;
  if (empty) return true;
  if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(folder / "model.json", ec))) return false;
  try {
    std::ifstream in(folder / "model.json");
    const nlohmann::json manifest = parse_bounded_json(in);
    return manifest.is_object() && manifest.value("training", nlohmann::json()).is_object();
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// The weight files at the top of `out` (a training run writes its own in checkpoint/ and model/):
// a model's folder without a model.json, a Wan download's or another tool's, sorted.
std::vector<std::string> weight_files_in(const std::filesystem::path& out) {
  std::vector<std::string> weights;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string extension = lowercase_extension(it->path());
    if (extension == ".safetensors" || extension == ".pth" || extension == ".pt" || extension == ".ckpt" ||
        extension == ".gguf") {
      weights.push_back(it->path().filename().string());
    }
  }
  std::sort(weights.begin(), weights.end());
  return weights;
}

// A run inside a model's folder (a Wan download's transformer/, a folder under an export) is refused
// as generate's outputs there are: its folders among the model's parts could unmake the model (a
// transformer/ beside a DiT at the top reads as two layouts). A folder above is a model's when it
// reads as one: loose weights in ~/Downloads, or another tool's model.json, are no model here.
void refuse_inside_a_model(const std::filesystem::path& out) {
  std::error_code ec;
  const std::filesystem::path full = std::filesystem::weakly_canonical(std::filesystem::absolute(out, ec), ec);
  if (ec) return;
  for (std::filesystem::path folder = full.parent_path(); folder.has_relative_path(); folder = folder.parent_path()) {
    try {
      (void)read_model_manifest(folder);
    } catch (const std::exception&) {
      continue;  // no model here
    }
    refuse_inside_model_folder(out, folder, "--out");
  }
}

// Whether `path` (a new run's loss.tsv) is absent, empty or a loss log of svgear train, which the run rewrites.
bool is_replaceable_loss_log(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string header = kLossHeader;
  std::string start(header.size(), '\0');
  in.read(start.data(), std::streamsize(start.size()));
  return in.gcount() == 0 || start == header;
}

// On the CPU a batch past the host's memory is not an allocation error but the kernel's OOM kill
// at step 1 (a GPU's allocator fails cleanly, which the loop reports), so it is refused first,
// with the largest batch that fits. A resumed run keeps its batch: it moves instead.
void refuse_batch_past_host_memory(const FlowMatchingTrainer& trainer, const c10::Device& device, bool resuming) {
  if (!device.is_cpu()) return;
  const std::optional<int64_t> available = available_host_memory();
  const int64_t batch = trainer.recipe().batch;
  const int64_t needed = training_step_host_bytes(trainer.spec(), batch);
  if (!available || needed <= *available) return;
  const int64_t fits = *available / training_clip_host_bytes(trainer.spec());
  std::string remedy;
  if (resuming) {
    remedy = "a resumed run keeps its batch, so resume it where more memory is free or on a GPU (or export it with "
             "--steps " + std::to_string(trainer.steps_done()) + " and go on from the export with --continue-from and a "
             "smaller --batch)";
  } else {
    remedy = fits > 0 ? "lower --batch to at most " + std::to_string(fits) + ", or train on a GPU"
                      : "not even one clip fits: free memory, or train on a GPU";
  }
  throw UserError("out of memory on the CPU: a training step of " + std::to_string(batch) + " " + trainer.spec().name +
                  " clips holds about " + gib(needed) + ", and " + gib(*available) + " are available; " + remedy);
}

}  // namespace

int cmd_train(int argc, char** argv) {
  CliArgs args(argc, argv, 2);
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  auto preset = args.text("preset");
  const auto out_text = args.text("out");
  const int64_t total_steps = args.integer("steps", 1).value_or(1000);
  const auto batch = args.integer("batch");
  const auto lr = args.number("lr");
  const auto warmup = args.integer("warmup", 0);
  const auto cooldown = args.integer("cooldown", 1);
  const auto shift = args.number("shift");
  const auto max_objects = args.integer("max-objects");
  const auto object_weight = args.number("object-weight");
  const bool random_seed = args.text("seed") == "random";
  const auto seed = args.seed("", "");  // the data's seeds mix all 64 bits
  const auto text_layers = args.integer("text-layers");
  const auto text_position_std = args.number("text-position-std");
  const int64_t checkpoint_every = args.integer("checkpoint-every", 1).value_or(200);
  const int64_t log_every = args.integer("log-every", 1).value_or(20);
  const double minutes = args.number("minutes").value_or(0.0);
  const auto stop_at_option = args.integer("stop-at");
  const int64_t stop_at = stop_at_option.value_or(total_steps);
  const auto init_from = args.text("init-from");
  const auto continue_from = args.text("continue-from");
  const std::string commit = args.text("commit").value_or("unrecorded");
  const c10::Device device = parse_device(args.text("device").value_or("auto"));
  args.finish();
  if (!out_text) throw UserError("--out DIR is required (the training folder)");
  if (out_text->empty()) throw UserError("--out is empty: name the training folder");
  if (commit.empty()) throw UserError("--commit is empty: name the source's commit, or leave the option out");
  if (minutes < 0.0) throw UserError("--minutes must not be negative (0 = no limit)");
  if (stop_at < 1 || stop_at > total_steps) {
    throw UserError("--stop-at must be between 1 and --steps (" + std::to_string(total_steps) + "), got " +
                    std::to_string(stop_at));
  }
  if (shift && !(*shift > 0.0 && *shift <= 100.0)) {
    throw UserError("--shift must be greater than 0 and at most 100 (1 = unshifted)");
  }
  // Below 1e-10 an AdamW step (about lr per weight) is under fp32's resolution of weights near 1e-3:
  // the run would train nothing and say nothing.
  if (lr && !(std::isfinite(*lr) && *lr >= 1e-10)) {
    char message[96];
    std::snprintf(message, sizeof message, "--lr must be at least 1e-10 (default 1e-3), got %g", *lr);
    throw UserError(message);
  }
  if (batch && (*batch < 1 || *batch > TrainingRecipe::kMaxBatch)) {
    throw UserError("--batch must be between 1 and " + std::to_string(TrainingRecipe::kMaxBatch) + " clips, got " +
                    std::to_string(*batch));
  }
  if (object_weight && !(*object_weight >= 1.0 && *object_weight <= TrainingRecipe::kMaxObjectWeight)) {
    throw UserError("--object-weight must be between 1 (every pixel alike) and 10000");
  }
  if (max_objects && (*max_objects < 1 || *max_objects > kMaxSceneObjects)) {
    throw UserError("--max-objects must be between 1 and " + std::to_string(kMaxSceneObjects) + ", got " +
                    std::to_string(*max_objects));
  }
  if (cooldown && (*cooldown < 1 || *cooldown > total_steps)) {
    throw UserError("--cooldown must be between 1 and --steps (" + std::to_string(total_steps) + "), got " +
                    std::to_string(*cooldown));
  }
  if (text_layers && (*text_layers < 0 || *text_layers > 2)) {
    throw UserError("--text-layers must be 0, 1 or 2, got " + std::to_string(*text_layers));
  }
  if (text_position_std &&
      !(*text_position_std >= 0.0 && *text_position_std <= TrainingRecipe::kMaxTextPositionStd)) {
    char message[160];
    std::snprintf(message, sizeof message, "--text-position-std must be between 0 and %g (the token rows' std), got %g",
                  TrainingRecipe::kMaxTextPositionStd, *text_position_std);
    throw UserError(message);
  }
  if (init_from && continue_from) throw UserError("--init-from and --continue-from exclude each other");
  for (const auto& [option, source] : {std::pair{"--init-from", init_from}, std::pair{"--continue-from", continue_from}}) {
    if (!source) continue;
    if (source->empty()) throw UserError(std::string(option) + " needs a model folder (an export's model/)");
    require_model_folder(*source);
  }
  const std::filesystem::path out(*out_text);
  const std::filesystem::path checkpoint = out / "checkpoint";
  // A model folder is read, never written: a run's files among its weights could replace them or be
  // listed as the model's (generate and compare refuse outputs there too).
  for (const auto& source : {init_from, continue_from}) {
    if (source) refuse_inside_model_folder(out, *source, "--out");
  }
  if (std::error_code ec; std::filesystem::exists(out / "model.json", ec)) {
    throw UserError("--out '" + out.string() + "' holds a model.json: it is a model's folder, not a training folder. "
                    "Choose another --out folder.");
  }
  refuse_inside_a_model(out);
  // A run's own checkpoint folder: a new run there had nested its files among the shards.
  if (std::error_code ec; std::filesystem::exists(out / "state.json", ec)) {
    std::filesystem::path folder = std::filesystem::absolute(out, ec).lexically_normal();
    if (!folder.has_filename()) folder = folder.parent_path();
    throw UserError("--out '" + out.string() + "' is the checkpoint folder of the training run in '" +
                    folder.parent_path().string() + "': give --out " + folder.parent_path().string() +
                    " to resume that run, or another folder for a new one");
  }
  check_output_folder(out);  // made once every option has been checked: a refused run leaves no folder
  // A folder that exists is locked before it is looked at: a run still writing there before its
  // first save is named as such (not taken for a new run's folder, or one lacking --preset), and one
  // that saves would replace the shards under a resume's read.
  std::optional<FolderLock> lock;
  std::error_code ec;
  if (std::filesystem::is_directory(out, ec)) lock.emplace(out, "another `svgear train`");
  // What a run killed mid-write left (a checkpoint's shards, the log): no other process writes here
  // while the lock is held. A killed first save's files had refused the restart.
  if (lock && lock->held()) {
    FlowMatchingTrainer::remove_killed_saves(checkpoint);
    remove_killed_writers_temp_files(out, [](std::string_view base) { return base == "loss.tsv"; });
  }

  // A model's folder without a model.json (a Wan download, another tool's weights) would stop being
  // one with a run's files in it: it read as a training run's folder afterwards. Refused for a resume
  // too, which one trained there before this check would otherwise continue.
  const std::vector<std::string> weights = weight_files_in(out);
  const bool wan_model = holds_wan_diffusion_model(out);  // reads the headers: once
  if (!weights.empty() || wan_model) {
    std::string names;
    for (size_t i = 0; i < weights.size() && i < 3; ++i) names += (i ? ", " : "") + weights[i];
    if (weights.size() > 3) names += " and " + std::to_string(weights.size() - 3) + " more";
    throw UserError("--out '" + out.string() + "' holds " +
                    (wan_model ? "a Wan model" : "model weights") +
                    (names.empty() ? "" : " (" + names + ")") +
                    ": it is a model's folder, not a training folder. Choose another --out folder.");
  }

  // What is in the way of the run's files is found before any step is trained, not at its first save.
  {
    // The checkpoint is written into a folder, through a link too; the export replaces model/ itself.
    const auto status = std::filesystem::status(checkpoint, ec);
    if (std::filesystem::exists(status) && !std::filesystem::is_directory(status)) {
      throw UserError(checkpoint.string() + " is in the way: the run writes a folder of that name (move it)");
    }
    const auto model_status = std::filesystem::symlink_status(out / "model", ec);
    if (std::filesystem::is_symlink(model_status)) {
      throw UserError((out / "model").string() + " is a link: the run's export replaces a folder of that name, "
                      "not through a link (move it)");
    }
    if (std::filesystem::exists(model_status) && !std::filesystem::is_directory(model_status)) {
      throw UserError((out / "model").string() + " is in the way: the run writes a folder of that name (move it)");
    }
  }
  check_output_file(out / "loss.tsv");
  // Its first save may be --checkpoint-every steps away: a folder that takes no file is refused now.
  check_output_folder(checkpoint);
  const bool resuming = std::filesystem::exists(checkpoint / "state.json");
  // A resume replaces its own model/ and trims its own loss.tsv; a new run replaces model/, rewrites
  // loss.tsv and deletes older shards in checkpoint/, so what svgear train did not write there is
  // refused; a resumed run replaces model/ and trims loss.tsv too (a notes file a user put in model/
  // was deleted with it).
  const std::string what_to_do =
      resuming ? ": move it out of the way to resume" : ": choose another --out folder, or remove it";
  const std::string which_run = resuming ? "the resumed run" : "a new run";
  if (!resuming && !std::filesystem::is_empty(checkpoint, ec) && !ec) {
    throw UserError(checkpoint.string() + " holds files but no state.json to resume (a new run writes its checkpoint "
                    "there)" + what_to_do);
  }
  if (std::filesystem::is_directory(out / "model", ec) && !is_replaceable_export(out / "model")) {
    throw UserError((out / "model").string() + " is not an export of svgear train, or holds other files (" + which_run +
                    " replaces it)" + what_to_do);
  }
  if (!is_replaceable_loss_log(out / "loss.tsv")) {
    throw UserError((out / "loss.tsv").string() + " is not a loss log of svgear train (" + which_run + " rewrites it)" +
                    what_to_do);
  }
  if (resuming && (init_from || continue_from)) {
    throw UserError("--init-from and --continue-from start a run, but " + checkpoint.string() +
                    " already exists: use another --out folder, or neither option to resume it");
  }
  // A continued run keeps the recipe of the model it continues; options given here override it.
  TrainingRecipe recipe;
  if (continue_from) {
    const std::string not_an_export = *continue_from + " is not an exported training run (its model.json has no ";
    require_regular_file(std::filesystem::path(*continue_from) / "model.json", "an export's model.json");
    std::ifstream in(std::filesystem::path(*continue_from) / "model.json");
    nlohmann::json source;
    try {
      source = parse_bounded_json(in);
    } catch (const nlohmann::json::exception&) {
    }
    if (!source.is_object() || !source.contains("training")) throw UserError(not_an_export + "training record)");
    try {
      recipe = TrainingRecipe::from_json(source["training"].at("recipe"));
      if (!preset) preset = source.value("name", "");
    } catch (const nlohmann::json::exception& e) {
      throw UserError(not_an_export + "usable training recipe: " + json_error_text(e) + ")");
    }
  }
  if (batch) recipe.batch = *batch;
  if (lr) recipe.learning_rate = *lr;
  if (warmup) recipe.warmup_steps = int(*warmup);
  if (shift) recipe.shift = *shift;
  if (max_objects) recipe.max_objects = int(*max_objects);
  if (object_weight) recipe.object_weight = *object_weight;
  if (seed) recipe.seed = *seed;
  if (text_position_std) recipe.text_position_std = *text_position_std;
  if (!resuming && !preset) throw UserError("--preset shapes-s|shapes-l|shapes-tiny is required for a new run");
  ShapesModelSpec spec;
  if (!resuming) {
    spec = shapes_model_preset(*preset);
    // A run from another model keeps its text encoder unless told otherwise, so an ablation
    // changes only what it names.
    const auto source = continue_from ? continue_from : init_from;
    const int source_layers = source ? ModelManifest::read(*source).text_layers : 0;
    if (source) spec.text_layers = source_layers;
    if (text_layers) spec.text_layers = int(*text_layers);
    // Only a transformer this run creates starts from these positions: a new run's, or one grown on a
    // source without any (load_weights); with any other the value would do nothing, yet be recorded.
    const std::string position_std =
        "--text-position-std starts the positions of a text transformer this run creates; ";
    if (text_position_std && source_layers > 0) {
      throw UserError(position_std + *source + " has one already, which this run trains on");
    }
    if (text_position_std && spec.text_layers == 0) {
      throw UserError(position_std + "this run has none (0 text layers: give --text-layers 1 or 2 for one)");
    }
  }
  FlowMatchingTrainer trainer = resuming ? FlowMatchingTrainer::resume(checkpoint, device)
                                         : FlowMatchingTrainer(std::move(spec), recipe, device);
  if (resuming && text_position_std && *text_position_std != trainer.recipe().text_position_std) {
    throw UserError("--text-position-std sets how a new run's text transformer starts; " + checkpoint.string() +
                    " already has its own");
  }
  if (resuming && text_layers && *text_layers != trainer.spec().text_layers) {
    // A run from an export grows a transformer only on a table alone (load_weights).
    const bool can_grow = trainer.spec().text_layers == 0;
    throw UserError(checkpoint.string() + " trains a text transformer of " +
                    counted_noun(trainer.spec().text_layers, "layer", "layers") + "; a resumed run keeps it (" +
                    (can_grow ? "start a new run with --continue-from " + (out / "model").string() + " to grow one"
                              : std::string("start a new run in another --out folder for another")) +
                    ")");
  }
  if (resuming) {
    // A resumed run replays its own recipe (so it matches an unbroken run); a different one is a new
    // run from this one's export. The command that started a run resumes it, --seed random too.
    const TrainingRecipe& kept = trainer.recipe();
    const int kept_max_objects = kept.max_objects > 0 ? kept.max_objects : trainer.spec().max_objects;  // 0: preset's
    if (random_seed) {
      std::printf("note: a resumed run keeps its seed %llu (--seed random draws one for a new run)\n",
                  static_cast<unsigned long long>(kept.seed));
    }
    if ((batch && *batch != kept.batch) || (lr && *lr != kept.learning_rate) ||
        (warmup && *warmup != kept.warmup_steps) || (seed && !random_seed && *seed != kept.seed) ||
        (shift && *shift != kept.shift) || (max_objects && *max_objects != kept_max_objects) ||
        (object_weight && *object_weight != kept.object_weight)) {
      char kept_text[200];
      std::snprintf(kept_text, sizeof kept_text,
                    "batch %lld, lr %g, warm-up %d, shift %g, seed %llu, max objects %d, object weight %g",
                    static_cast<long long>(kept.batch), kept.learning_rate, kept.warmup_steps, kept.shift,
                    static_cast<unsigned long long>(kept.seed), kept_max_objects, kept.object_weight);
      throw UserError(std::string("a resumed run keeps its recipe (") + kept_text +
                      "): to change it, start a new run with --continue-from " + (out / "model").string());
    }
  }
  if (init_from) trainer.initialize_from(*init_from);
  if (continue_from) trainer.continue_from(*continue_from);
  if (resuming && preset && *preset != trainer.spec().name) {
    throw UserError(checkpoint.string() + " trains " + trainer.spec().name + ", not " + *preset +
                    ": use another --out folder");
  }
  if (stop_at < trainer.steps_done()) {
    throw UserError((stop_at_option ? "--stop-at " : "--steps ") + std::to_string(stop_at) +
                    " is before this run's step " + std::to_string(trainer.steps_done()));
  }
  // The cool-down of the model a run continues was that run's ending; a resumed run keeps its own,
  // and cannot train past it (its rate would be zero).
  if (cooldown) {
    // The command that started a cool-down resumes inside it: the same window is no new cool-down.
    const bool same_window = resuming && trainer.recipe().cooldown_end == total_steps &&
                             trainer.recipe().cooldown_start == total_steps - *cooldown;
    if (!same_window && *cooldown > total_steps - trainer.steps_done()) {
      throw UserError("--cooldown " + std::to_string(*cooldown) + " is longer than the " +
                      std::to_string(total_steps - trainer.steps_done()) + " steps left before --steps " +
                      std::to_string(total_steps));
    }
    trainer.set_cooldown(total_steps - *cooldown, total_steps);
  } else if (continue_from || init_from) {
    trainer.set_cooldown(0, 0);
  } else if (const int64_t end = trainer.recipe().cooldown_end; end > 0 && total_steps > end) {
    if (trainer.steps_done() < end) {
      throw UserError(checkpoint.string() + " is at step " + std::to_string(trainer.steps_done()) +
                      " of a cool-down to step " + std::to_string(end) + ": resume it with --steps " +
                      std::to_string(end) + " (then go on from its export with --continue-from), or give it a new --cooldown");
    }
    throw UserError(checkpoint.string() + " cooled down to step " + std::to_string(end) +
                    ": train on with --continue-from " + (out / "model").string() +
                    " (a new run, which warms up again), or give this run a new --cooldown");
  }
  if (stop_at > trainer.steps_done()) refuse_batch_past_host_memory(trainer, device, resuming);  // not an export alone
  const bool made_out = !std::filesystem::exists(out, ec);
  create_output_folder(out);
  if (!lock) {
    lock.emplace(out, "another `svgear train`");
    // A run that was still writing here when this one looked has saved a checkpoint meanwhile.
    if (std::filesystem::exists(checkpoint / "state.json", ec)) {
      throw UserError(checkpoint.string() + " appeared while this run started (another run saved it): run the command "
                      "again to resume it");
    }
  }
  if (trainer.steps_done() < stop_at) trainer.begin_stage(commit, device_description(device));
  // loss.tsv: one line per --log-every steps, the mean loss over them (reading a loss synchronises
  // the device, so the loop reads one sum per line).
  std::string log = kLossHeader;
  bool log_trimmed = false;  // loss.tsv held lines past the checkpoint, or lines svgear does not write
  if (resuming) {
    ResumedLossLog resumed = resumed_loss_log(out / "loss.tsv", trainer.steps_done());
    if (resumed.left_out > 0) {
      std::fprintf(stderr, "warning: %s: %s that svgear train does not write (the first: line %lld) %s left out\n",
                   (out / "loss.tsv").string().c_str(), counted_noun(resumed.left_out, "line", "lines").c_str(),
                   static_cast<long long>(resumed.first_left_out), resumed.left_out == 1 ? "is" : "are");
    }
    log_trimmed = !resumed.same_as_file;
    log = std::move(resumed.log);
  }
  const char* verb = resuming ? "resuming" : continue_from ? "continuing" : "training";
  // The seed too: --seed random's draw is otherwise only in checkpoint/state.json.
  std::printf("%s %s on %s: step %lld of %lld, batch %lld, seed %llu\n", verb,
              trainer.spec().name.c_str(), device_description(device).c_str(),
              static_cast<long long>(trainer.steps_done()), static_cast<long long>(total_steps),
              static_cast<long long>(trainer.recipe().batch), static_cast<unsigned long long>(trainer.recipe().seed));
  // A warm-up the run ends inside never reaches --lr: allowed (a first slice of a longer plan), but said.
  if (const int64_t last = trainer.optimizer_steps() + (stop_at - trainer.steps_done());
      warmup && *warmup > last && stop_at > trainer.steps_done()) {
    std::printf("note: the warm-up of %lld steps outlasts this run's %lld, so the rate ends at %.3g of --lr %g\n",
                static_cast<long long>(*warmup), static_cast<long long>(last), double(last) / double(*warmup),
                trainer.recipe().learning_rate);
  }

  // A resume with no step left: an export that holds this step is not written again (rewriting it
  // had changed nothing but its files' times, which compare's dense-run cache is keyed on).
  // The export must be this run's at this step (its recipe, seed and stages too): another run's,
  // left in the folder, is replaced as before.
  if (resuming && trainer.steps_done() >= stop_at) {
    const nlohmann::json exported = read_json_if_small(out / "model" / "model.json", 16 << 20);
    std::error_code exists_ec;
    if (exported.is_object() && exported.value("training", nlohmann::json()) == trainer.training_record() &&
        std::filesystem::exists(out / "model" / "model.safetensors", exists_ec)) {
      if (log_trimmed) write_file_atomically(out / "loss.tsv", log);  // as a resume that trains trims it
      std::printf("already at step %lld: nothing to do (%s and %s are as they were)\n",
                  static_cast<long long>(trainer.steps_done()), checkpoint.c_str(), (out / "model").c_str());
      return 0;
    }
  }
  CancelToken cancel;
  InterruptCancel interrupt(cancel);
  const auto start = std::chrono::steady_clock::now();
  at::Tensor loss_sum;
  int64_t losses = 0, first_step = trainer.steps_done();
  int64_t saved_step = trainer.steps_done();
  // How much of the log loss.tsv holds (none: a resume's trimmed log is yet to be written).
  size_t saved_log = 0;
  // Whether checkpoint/ holds a step of this run to resume from: a resumed run's, or one saved since
  // (a run from --continue-from starts past step 0 with none).
  bool checkpoint_saved = resuming;
  const auto checkpoint_kept = [&] {
    return checkpoint_saved ? " (the checkpoint of step " + std::to_string(saved_step) + " is kept)" : std::string();
  };
  // A loss that is NaN or infinite has spoilt the weights: neither saved nor exported, the run ends.
  auto diverged = [&](const std::string& what) {
    if (made_out) std::filesystem::remove(out, ec);  // a new run that saved nothing leaves no folder
    return UserError("training diverged: " + what + " by step " + std::to_string(trainer.steps_done()) +
                     ". Nothing after step " + std::to_string(saved_step) +
                     " was saved; start again with a lower --lr or a longer --warmup");
  };
  auto refuse_diverged = [&](double mean_loss) {
    if (!std::isfinite(mean_loss)) throw diverged(std::string("the loss is ") + (std::isnan(mean_loss) ? "NaN" : "infinite"));
  };
  auto save = [&] {
    if (losses > 0) refuse_diverged(loss_sum.item<double>());
    if (!trainer.state_is_finite()) throw diverged("the weights or their optimiser state are no longer finite");
    // A second Ctrl-C waits for the checkpoint rather than leaving temporary files beside it.
    const InterruptsHeld held;
    try {
      write_file_atomically(out / "loss.tsv", log);  // first: resumed_loss_log drops what the checkpoint lacks
      trainer.save_checkpoint(checkpoint);
    } catch (const UserError& e) {
      // A full disk, say: the earlier checkpoint stays whole (state.json is replaced last).
      throw UserError(e.what() + checkpoint_kept());
    }
    saved_step = trainer.steps_done();
    checkpoint_saved = true;
    saved_log = log.size();
  };
  // A step that would end past --minutes is not begun, so a job with a hard time limit is not
  // killed mid-step (a shapes-l CPU step at batch 6 took 456 s). A step's time is the mean of this
  // run's steps after the first, which pays one-time costs (the first's own until there is a
  // second): on a GPU a step only queues its work, and the waits at log lines and saves fall on
  // some steps only. The first step always runs.
  double step_seconds = 0.0;
  std::chrono::steady_clock::time_point first_step_end;
  auto out_of_time = [&] {
    if (minutes <= 0.0 || trainer.steps_done() == first_step) return false;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return elapsed + step_seconds > 60.0 * minutes;
  };
  auto log_line = [&] {
    if (losses == 0) return;
    const int64_t step = trainer.steps_done();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double mean_loss = loss_sum.item<double>() / double(losses);
    refuse_diverged(mean_loss);
    char line[128];
    std::snprintf(line, sizeof line, "%lld\t%.6f\t%.3g\t%.1f\n", static_cast<long long>(step),
                  mean_loss, trainer.learning_rate(trainer.steps_done()), seconds);
    log += line;
    std::printf("step %s", line);
    std::fflush(stdout);
    losses = 0;
  };
  // Out of memory is the batch's size, which the user chooses: said so, not as an internal error.
  auto checked_step = [&] {
    try {
      return trainer.step();
    } catch (const std::exception& e) {
      if (!out_of_memory_on(e, device)) throw;
      if (made_out) std::filesystem::remove(out, ec);  // as for a divergence: a new run that saved nothing leaves no folder
      throw UserError("out of memory on " + device_description(device) + " at step " +
                      std::to_string(trainer.steps_done() + 1) + " with batch " + std::to_string(trainer.recipe().batch) +
                      ": lower --batch" + checkpoint_kept());
    }
  };
  while (trainer.steps_done() < stop_at && !cancel.is_cancelled() && !out_of_time()) {
    const at::Tensor loss = checked_step();
    loss_sum = losses == 0 ? loss : loss_sum.add(loss);
    ++losses;
    const int64_t step = trainer.steps_done();
    if (step % log_every == 0 || step == total_steps) log_line();
    if (step % checkpoint_every == 0) save();
    const auto now = std::chrono::steady_clock::now();
    if (step == first_step + 1) {
      first_step_end = now;
      step_seconds = std::chrono::duration<double>(now - start).count();
      if (minutes > 0.0 && step_seconds > 60.0 * minutes) {
        std::printf("note: one step took %.1f s, longer than --minutes %g allows; a smaller --batch steps faster\n",
                    step_seconds, minutes);
      }
    } else {
      step_seconds = std::chrono::duration<double>(now - first_step_end).count() / double(step - first_step - 1);
    }
  }
  log_line();
  // The final save and the export under one hold: a second Ctrl-C between them would leave a
  // checkpoint newer than its model/, half a result.
  const InterruptsHeld held;
  // A step that --checkpoint-every has just saved is not saved again: at most its log line is left.
  if (!checkpoint_saved || saved_step != trainer.steps_done()) {
    save();
  } else if (log.size() != saved_log) {
    write_file_atomically(out / "loss.tsv", log);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (trainer.steps_done() > first_step) {
    const int64_t steps = trainer.steps_done() - first_step;
    std::printf("%s in %.1f s (%.2f steps/s, %.1f clips/s)\n", counted_noun(steps, "step", "steps").c_str(), seconds,
                double(steps) / seconds, double(steps * trainer.recipe().batch) / seconds);
  }
  std::string description =
      "shapes world, trained by `svgear train` for " + counted_noun(trainer.steps_done(), "step", "steps");
  if (const nlohmann::json& source = trainer.initialized_from(); source.is_object()) {
    description += " from " + source.value("model", std::string("another model")) + "'s weights at step " +
                   std::to_string(source.value("steps", int64_t(0)));
  }
  try {
    trainer.export_model(out / "model", description);
  } catch (const UserError& e) {  // a full disk: model/ stays as it was
    throw UserError(e.what() + checkpoint_kept());
  }
  const bool finished = trainer.steps_done() >= stop_at;
  std::printf("%s at step %lld: wrote %s and %s\n", finished ? "done" : cancel.is_cancelled() ? "stopped" : "time is up",
              static_cast<long long>(trainer.steps_done()), checkpoint.c_str(), (out / "model").c_str());
  // A script can tell an interrupted run.
  return !finished && cancel.is_cancelled() ? InterruptCancel::exit_status() : 0;
}

}  // namespace svgear
