// svgear generate: one text-to-video generation, written as a video plus a JSON run record.

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/interrupt_cancel.h"
#include "app/request_options.h"
#include "app/terminal_progress.h"
#include "core/io/atomic_file.h"
#include "core/io/file_name_limit.h"
#include "core/media/video_output.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/run_record.h"
#include "core/user_error.h"

namespace svgear {
namespace {

constexpr const char* kUsage = "usage: svgear generate --prompt TEXT [options]\n\n";
constexpr const char* kOwnHelp = R"(  --attention MODE   dense | svg2 | svgear (default dense, or the preset's mode)
  --output PATH      .mp4, .y4m, or a folder for PNG frames (default out/svgear-<seed>.mp4)
  --quiet
  --dump-attention F.safetensors   save the q, k, v of one self-attention call (conditional branch)
                     for `svgear bench attention --inputs F.safetensors`
  --dump-layer N     --dump-step N   which call (default: the middle layer at the middle step)
Ctrl-C or SIGTERM cancels after the current step (or latent frame of the final decode) and keeps
that step's estimate of the clip, decoded then, as <output>-partial; a second one during the final
writes waits for them, otherwise it ends the process at once.
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

// Before any work, as the video's path: the dump is written mid-run, and must not go inside the
// model's folder, where it could replace the weights or be read as one of them next time (a Wan
// folder's files are found by their extension).
void check_dump_path(const std::filesystem::path& dump, const std::filesystem::path& model_dir) {
  check_output_file(dump);
  std::error_code folder_error, file_error;
  const std::filesystem::path folder = std::filesystem::weakly_canonical(model_dir, folder_error);
  const std::filesystem::path file = std::filesystem::weakly_canonical(dump, file_error);
  if (folder_error || file_error || folder.empty()) return;  // the load or the write says why
  const auto [end, unused] = std::mismatch(folder.begin(), folder.end(), file.begin(), file.end());
  if (end == folder.end()) {
    throw UserError("--dump-attention '" + dump.string() + "' is inside the model's folder '" + model_dir.string() +
                    "': a dump there could replace its weights or be read as one of them. Choose a path outside "
                    "that folder.");
  }
}

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
  const bool quiet = args.flag("quiet");
  const auto output_arg = args.text("output");
  args.finish();
  require_prompt(options, help);
  if (output_arg && output_arg->empty()) throw UserError("--output needs a path (.mp4, .y4m, or a folder/ for PNG frames)");

  const std::filesystem::path model_dir = model_folder_or_default(options.model_folder);
  std::filesystem::path output =
      output_arg ? std::filesystem::path(*output_arg)
                 : std::filesystem::path("out") / ("svgear-" + std::to_string(request.seed) + ".mp4");
  // "." and ".." (also "./", "out/../") are PNG folders named only through the current one: spelled
  // out, their record and partial folder sit beside them as any folder's do ("/w/clips/" →
  // "/w/clips.json"), not as hidden "..json" files.
  const std::filesystem::path last = (output.has_filename() ? output : output.parent_path()).filename();
  if (last == "." || last == "..") output = std::filesystem::absolute(output).lexically_normal();

  // Before any work: a path the writer would refuse must not cost a whole generation (nor the
  // partial result a Ctrl-C keeps beside it).
  const std::filesystem::path partial = with_suffix(output, "-partial");
  check_video_output(output);
  check_run_record_for(video_output_path(output));
  try {
    check_video_output(partial);
    check_run_record_for(video_output_path(partial));
  } catch (const UserError& e) {  // a name the user never gave: say why it matters
    throw UserError(std::string(e.what()) + "\n(" + video_output_path(partial).string() +
                    " is where a Ctrl-C would keep the partial result of " + output.string() + ")");
  }
  if (request.dump_attention) check_dump_path(request.dump_attention->path, model_dir);
  // And the request against the model's manifest: a bad size or step count costs no weight load.
  (void)request.resolve(read_model_manifest(model_dir));

  TerminalProgress progress(quiet);
  if (const std::string note = mp4_fallback_note(output); !note.empty()) progress.on_warning(note);
  std::unique_ptr<Model> model = Model::load(model_dir, parse_device(options.device_name), options.model_options);
  progress.on_log("model " + model->manifest.name + " on " + model->device.str());

  CancelToken cancel;
  // Through the writes too: a signal there lets the video and its record be finished, not torn.
  InterruptCancel interrupt(cancel);
  const GenerationResult result = Generator(*model).run(request, progress, cancel);

  if (result.status == GenerationStatus::Failed) return result.error_is_internal ? 3 : 2;
  if (const auto& dump = result.request.dump_attention; dump && result.attention_dumped) {
    std::printf("wrote the q, k, v of layer %d at step %d to %s\n", *dump->layer, *dump->step, dump->path.c_str());
  }
  const bool cancelled = result.status == GenerationStatus::Cancelled;
  if (cancelled && result.video.empty()) return 130;  // the generator said so: nothing to keep
  // The fallback's note was the warning before the work; the line below names the file.
  VideoOutputResult written;
  {
    const InterruptsHeld held;  // a second Ctrl-C waits for the files, not tears them
    written = write_video(result.video, cancelled ? partial : output);
    write_run_record(written.path, make_run_record(result, *model));
  }
  const std::filesystem::path record = run_record_path(written.path);
  std::printf("%s %s (%d frames, %dx%d, %g fps) in %.1f s; settings in %s\n",
              cancelled ? "wrote partial" : "wrote", written.path.c_str(), result.video.frames,
              result.video.width, result.video.height, result.video.fps, result.timings.total_ms / 1000.0,
              record.c_str());
  return cancelled ? 130 : 0;
}

}  // namespace svgear
