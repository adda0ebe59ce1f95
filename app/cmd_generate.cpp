// svgear generate: one text-to-video generation, written as a video plus a JSON run record.

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/terminal_progress.h"
#include "core/media/video_output.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/run_record.h"
#include "core/user_error.h"

namespace svgear {
namespace {

constexpr const char* kHelp = R"(usage: svgear generate --prompt TEXT [options]

  --model DIR        model folder with model.json (default: the first built-in model)
  --prompt TEXT      what to generate
  --negative TEXT    negative prompt (default: the model's)
  --seed N|random    noise seed (default 0)
  --steps N          sampling steps            --sampler unipc|euler
  --cfg X            guidance scale (1 = off)  --shift X    timestep shift
  --frames N         --size WxH (or --width N --height N)   --fps X
  --attention MODE   dense | svg2 | svgear (default dense)
  --device D         auto | cpu | cuda | cuda:N (default auto)
  --output PATH      .mp4, .y4m, or a folder for PNG frames (default out/svgear-<seed>.mp4)
  --preview-every N  preview every N steps (0 = off)        --quiet
Ctrl-C cancels after the current step and keeps the last preview as <output>-partial.
)";

CancelToken* g_cancel = nullptr;

void on_interrupt(int) {
  if (g_cancel) g_cancel->cancel();
}

uint64_t parse_seed(const std::string& text) {
  if (text == "random") {
    std::FILE* f = std::fopen("/dev/urandom", "rb");
    uint64_t seed = 0;
    if (!f || std::fread(&seed, sizeof seed, 1, f) != 1) throw UserError("cannot read /dev/urandom for a random seed");
    std::fclose(f);
    return seed >> 1;  // stays exact in JSON numbers read by other tools
  }
  char* end = nullptr;
  const unsigned long long seed = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || text[0] == '-') {
    throw UserError("--seed expects a non-negative whole number or 'random', got '" + text + "'");
  }
  return seed;
}

std::filesystem::path default_model() {
  for (const auto& root : model_search_roots()) {
    const auto found = find_model_folders(root);
    if (!found.empty()) return found.front();
  }
  throw UserError("no model found: pass --model DIR (a folder with model.json), "
                  "or make one with `svgear random-model --preset tiny --out models/tiny`");
}

std::filesystem::path with_suffix(const std::filesystem::path& path, const std::string& suffix) {
  std::filesystem::path p = path;
  if (p.filename().empty()) p = p.parent_path();
  return p.parent_path() / (p.stem().string() + suffix + p.extension().string());
}

}  // namespace

int cmd_generate(int argc, char** argv) {
  CliArgs args(argc, argv, 2);
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  GenerationRequest request;
  const auto prompt = args.text("prompt");
  if (!prompt) throw UserError("--prompt is required\n" + std::string(kHelp));
  request.prompt = *prompt;
  request.negative_prompt = args.text("negative");
  request.seed = parse_seed(args.text("seed").value_or("0"));
  request.steps = args.integer("steps");
  request.guidance = args.number("cfg");
  request.shift = args.number("shift");
  request.frames = args.integer("frames");
  request.width = args.integer("width");
  request.height = args.integer("height");
  request.fps = args.number("fps");
  if (const auto size = args.text("size")) {
    int w = 0, h = 0;
    char tail = 0;
    if (std::sscanf(size->c_str(), "%dx%d%c", &w, &h, &tail) != 2) {
      throw UserError("--size expects WIDTHxHEIGHT, e.g. 64x64, got '" + *size + "'");
    }
    request.width = w;
    request.height = h;
  }
  if (const auto sampler = args.text("sampler")) request.sampler = parse_sampler_kind(*sampler);
  if (const auto mode = args.text("attention")) request.attention.mode = parse_attention_mode(*mode);
  request.preview_every = args.integer("preview-every").value_or(1);
  const bool quiet = args.flag("quiet");
  const std::string device_name = args.text("device").value_or("auto");
  const auto model_arg = args.text("model");
  const auto output_arg = args.text("output");
  args.finish();

  const std::filesystem::path model_dir = model_arg ? std::filesystem::path(*model_arg) : default_model();
  const std::filesystem::path output =
      output_arg ? std::filesystem::path(*output_arg)
                 : std::filesystem::path("out") / ("svgear-" + std::to_string(request.seed) + ".mp4");

  TerminalProgress progress(quiet);
  std::unique_ptr<Model> model = Model::load(model_dir, parse_device(device_name));
  progress.on_log("model " + model->manifest.name + " on " + model->device.str());

  CancelToken cancel;
  g_cancel = &cancel;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  action.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once
  sigaction(SIGINT, &action, nullptr);

  Generator generator(*model);
  GenerationResult result = generator.run(request, progress, cancel);
  g_cancel = nullptr;
  signal(SIGINT, SIG_DFL);

  if (result.status == GenerationStatus::Failed) return 1;
  const bool cancelled = result.status == GenerationStatus::Cancelled;
  if (cancelled && result.video.empty()) {
    progress.on_log("cancelled before the first preview: nothing to save");
    return 130;
  }
  const VideoOutputResult written = write_video(result.video, cancelled ? with_suffix(output, "-partial") : output);
  if (!written.note.empty()) progress.on_log(written.note);
  const std::filesystem::path record = run_record_path(written.path);
  write_run_record(record, make_run_record(result, *model));
  std::printf("%s %s (%d frames, %dx%d, %.0f fps) in %.1f s; settings in %s\n",
              cancelled ? "wrote partial" : "wrote", written.path.c_str(), result.video.frames,
              result.video.width, result.video.height, result.video.fps, result.timings.total_ms / 1000.0,
              record.c_str());
  return cancelled ? 130 : 0;
}

}  // namespace svgear
