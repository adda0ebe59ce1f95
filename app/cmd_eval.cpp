// svgear eval: prompt adherence of a shapes-world model, dense against the sparse modes.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/interrupt_cancel.h"
#include "app/request_options.h"
#include "app/results_file.h"
#include "app/terminal_progress.h"
#include "app/terminal_text.h"
#include "core/evaluation/adherence_eval.h"
#include "core/evaluation/text_influence.h"
#include "core/cancel_token.h"
#include "core/io/atomic_file.h"
#include "core/io/file_extension.h"
#include "core/media/contact_sheet.h"
#include "core/media/png_writer.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/request_limits.h"
#include "core/pipeline/run_record.h"
#include "core/shapes/prompt_grammar.h"
#include "core/user_error.h"

namespace svgear {
namespace {

constexpr const char* kHelp = R"(usage: svgear eval [--model DIR] [options]

Generates a fixed set of held-out shapes-world prompts with dense attention and with each sparse
mode (same request and seed), scores every prompted object's colour, shape and motion from the
pixels, and compares the sparse videos with the dense ones (PSNR / SSIM). docs/training.md.
  --prompts N       prompts, 1-1000 (default 20)  --objects N     objects in every prompt, 1-3 (default 1)
  --first-seed N    the prompt set (default 1000000)
  --modes LIST      modes beside dense: svg2,svgear (default svgear, or an attention preset's
                    mode); dense alone: --modes dense (which takes none of the sparse settings below)
  --steps N  --cfg X  --shift X   sampling, as `svgear generate` takes them (default: the model's)
  --device D        auto | cpu | cuda | cuda:N    --json FILE   also write the results as JSON
  --sheet FILE.png  a contact sheet: one row per prompt, 4 frames of each mode's clip side by side
  --text-influence  instead: how far each attribute's word moves the model's clean-clip estimate
                    at high noise (a few forward passes per prompt, no generation; default 8
                    prompts; core/evaluation/text_influence.h); with --prompts, --first-seed,
                    --device and --json only
the sparse modes' settings, as `svgear generate` takes them (default: AttentionConfig's):
  --attention-preset NAME|FILE.json  --top-p X  --q-clusters N  --k-clusters N
  --guaranteed-ratio X  --dense-steps X  --dense-layers X  --kmeans-in-warmup
)";

}  // namespace

int cmd_eval(int argc, char** argv) {
  CliArgs args(argc, argv, 2);
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  AdherenceEvalOptions options;
  const auto model_text = args.text("model");
  const auto prompts_given = args.integer("prompts", 1, kMaxEvalPrompts);
  options.prompts = int(prompts_given.value_or(options.prompts));
  const auto objects_given = args.integer("objects");
  options.objects = int(objects_given.value_or(options.objects));
  options.first_seed = uint64_t(args.integer("first-seed", 0).value_or(int64_t(options.first_seed)));
  const auto modes_text = args.text("modes");
  if (modes_text) {
    std::vector<AttentionMode> listed;
    for (const std::string& mode : split_list("modes", *modes_text)) listed.push_back(parse_attention_mode(mode));
    refuse_repeats("modes", listed);  // before dense goes: the items' numbers are the user's
    // Dense always runs: "--modes dense" evaluates it alone.
    options.modes.clear();
    for (const AttentionMode mode : listed) {
      if (mode != AttentionMode::Dense) options.modes.push_back(mode);
    }
  }
  if (const auto steps = args.integer("steps", 1, kMaxSteps)) options.base.steps = int(*steps);
  if (const auto guidance = args.number("cfg")) options.base.guidance = *guidance;
  if (const auto shift = args.number("shift")) options.base.shift = *shift;
  if (args.given("attention")) {
    throw UserError("eval runs dense and each mode of --modes (default svgear): give --modes svg2,svgear, not "
                    "--attention");
  }
  std::vector<std::string> attention_typed;
  // Each mode sets its own (a preset's mode too); the rest of these settings are the sparse modes'.
  options.base.attention = read_attention_options(args, AttentionMode::SvgEar, &attention_typed, false);
  const c10::Device device = parse_device(args.text("device").value_or("auto"));
  const auto json_path = args.text("json");
  const auto sheet_path = args.text("sheet");
  options.keep_videos = sheet_path.has_value();
  const bool text_influence = args.flag("text-influence");
  args.finish();
  // The sparse settings are read above whatever the mode; the options that shape a generation are
  // refused with --text-influence, and the sparse settings with dense alone, rather than silently
  // ignored.
  if (text_influence && (modes_text || sheet_path || objects_given || options.base.steps || options.base.guidance ||
                         options.base.shift || !attention_typed.empty())) {
    throw UserError("--text-influence generates nothing: it takes --model, --prompts, --first-seed, --device and "
                    "--json (not --modes, --sheet, --objects, --steps, --cfg, --shift or the sparse settings)");
  }
  // The clips take the seeds from --first-seed on: the last is held to the first's limit (the run
  // had gone past it at once). Text influence's seeds draw scenes only, in 64 bits.
  if (!text_influence && options.first_seed + uint64_t(options.prompts - 1) > uint64_t(INT32_MAX)) {
    throw UserError("--first-seed " + std::to_string(options.first_seed) + " with " + std::to_string(options.prompts) +
                    " prompts" + (prompts_given ? "" : " (the default --prompts)") +
                    " would take seeds past 2147483647: give --first-seed at most " +
                    std::to_string(uint64_t(INT32_MAX) - uint64_t(options.prompts - 1)));
  }
  // A preset's mode (a file's "mode") chooses the modes where --modes does not, as it chooses
  // generate's where --attention does not: a svg2 file had run svgear beside dense.
  const AttentionMode preset_mode = options.base.attention.mode;
  const bool modes_from_preset = !modes_text && preset_mode != AttentionMode::SvgEar;
  if (modes_from_preset) {
    options.modes.clear();
    if (preset_mode != AttentionMode::Dense) options.modes.push_back(preset_mode);
    std::erase(attention_typed, std::string("--attention-preset"));
  }
  if (modes_text || modes_from_preset) {
    refuse_attention_options_no_mode_uses(
        attention_typed, options.modes,
        modes_text ? "--modes " + *modes_text
                   : std::string("the preset's mode, ") + attention_mode_name(preset_mode) + ",",
        !modes_text                ? "give --modes svgear (which --modes decides over the preset's mode)"
        : options.modes.empty()    ? "add svg2 or svgear to --modes"
                                   : "add svgear to --modes");
  }
  if (options.objects < 1 || options.objects > 3) throw UserError("--objects must be 1, 2 or 3");
  if (json_path) check_results_file(*json_path);  // before the work, not after it
  if (sheet_path) {
    if (lowercase_extension(*sheet_path) != ".png") {
      throw UserError("--sheet writes a PNG image: give a FILE.png, not '" + *sheet_path + "'");
    }
    check_output_file(*sheet_path);
    std::error_code ec;
    const bool replaces = std::filesystem::exists(*sheet_path, ec);
    if (replaces && !is_svgear_png(*sheet_path)) {
      throw UserError("--sheet '" + *sheet_path + "' exists and is not a contact sheet or any PNG svgear wrote, which "
                      "the sheet would replace: choose another name (or remove it first to replace it)");
    }
    // A frame of a generated PNG video is a PNG svgear wrote too, but its clip is not the sheet's to break.
    // Normalised: "./frame_0002.png" has the folder ".", whose record is its parent's <name>.json.
    const std::filesystem::path sheet_folder = std::filesystem::absolute(*sheet_path, ec).lexically_normal().parent_path();
    const std::filesystem::path clip_record = run_record_path(sheet_folder);
    if (replaces && is_frame_file_name(std::filesystem::path(*sheet_path).filename().string()) &&
        std::filesystem::exists(clip_record, ec)) {
      throw UserError("--sheet '" + *sheet_path + "' is a frame of the PNG video in " + sheet_folder.string() +
                      " (its run record " + clip_record.string() +
                      " is beside the folder), which the sheet would replace: choose another name");
    }
    std::error_code a, b;
    if (json_path && std::filesystem::weakly_canonical(*json_path, a) == std::filesystem::weakly_canonical(*sheet_path, b)) {
      throw UserError("--json and --sheet name the same file '" + *sheet_path + "': the sheet would replace the results");
    }
  }

  const std::filesystem::path folder =
      model_folder_or_default(model_text ? std::optional<std::filesystem::path>(*model_text) : std::nullopt);
  if (sheet_path) refuse_inside_model_folder(*sheet_path, folder, "--sheet");
  if (json_path) refuse_inside_model_folder(*json_path, folder, "--json");
  // What the load would find, from the folder's files: a model that eval cannot score, a bad step
  // count or guidance costs no load (a Wan folder's is minutes and tens of GB).
  const ModelManifest manifest = read_model_manifest(folder);
  if (manifest.latent != LatentKind::Pixel || manifest.text_encoder != TextEncoderKind::Vocab ||
      manifest.prompt_grammar != kShapesWorldGrammar) {
    throw UserError(folder.string() + " is not a shapes-world model (its prompts are not the shapes-world grammar's): "
                    "svgear eval scores the built-in models, e.g. --model " +
                    (builtin_models_root() / "shapes-s").string() + "; a "
                    "random-model folder has no such grammar");
  }
  (void)options.base.resolve(manifest);
  auto model = Model::load(folder, device);
  CancelToken cancel;
  InterruptCancel interrupt(cancel);
  // Either measurement prints its table and, with --json, writes it beside the command and device.
  const auto report = [&](nlohmann::json j, const std::string& table, const char* command) {
    std::fputs(table.c_str(), stdout);
    if (!json_path) return;
    j["device"] = device_description(device);
    // Which weights were scored: a copy of a built-in model, edited, keeps its name.
    j["model_folder"] = std::filesystem::absolute(model->manifest.folder).lexically_normal().string();
    j["model_files"] = model->weight_files;
    write_results_file(*json_path, std::move(j), command);
    std::printf("wrote %s\n", json_path->c_str());
  };
  AdherenceEvalResult result;
  try {
    if (text_influence) {
      TextInfluenceOptions influence_options;
      influence_options.prompts = int(prompts_given.value_or(influence_options.prompts));
      influence_options.first_seed = options.first_seed;
      const TextInfluenceResult influence = measure_text_influence(*model, influence_options, cancel);
      report(influence.to_json(), influence.table(), "svgear eval --text-influence");
      return 0;
    }
    std::printf("evaluating %s on %s: %d prompt%s\n", printable(model->manifest.name, false).c_str(),
                device_description(device).c_str(), options.prompts, options.prompts == 1 ? "" : "s");
    TerminalProgress progress(false);  // a line per clip (eval takes no --quiet)
    result = run_adherence_eval(*model, options, cancel, progress);
  } catch (const Cancelled&) {
    std::printf("stopped: no results written\n");
    return InterruptCancel::exit_status();
  }
  report(result.to_json(), result.table(), "svgear eval");
  if (sheet_path) {
    std::vector<std::vector<const Video*>> rows;
    for (const AdherenceEvalPrompt& p : result.prompts) {
      std::vector<const Video*>& row = rows.emplace_back();
      for (const Video& clip : p.videos) row.push_back(&clip);
      std::printf("sheet row %zu: %s\n", rows.size(), p.prompt.c_str());
    }
    const RgbImage sheet = contact_sheet(rows, 4, 2);
    write_png(*sheet_path, sheet.rgb.data(), sheet.height, sheet.width);
    std::printf("wrote %s\n", sheet_path->c_str());
  }
  return 0;
}

}  // namespace svgear
