#pragma once
// The options `svgear generate` and `svgear compare` share: what to generate (prompt, seed,
// sampling, size), the attention settings, the model folder and the device. Both commands read
// them here so the same flags mean the same request.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/cli_args.h"
#include "core/attention/attention_config.h"
#include "core/pipeline/generation_request.h"
#include "core/pipeline/model.h"

namespace svgear {

// Help lines for the shared options (each command adds its own --attention, output and flags).
extern const char* const kRequestOptionsHelp;

struct RequestOptions {
  GenerationRequest request;
  std::string device_name = "auto";
  std::optional<std::filesystem::path> model_folder;  // unset: the first model found
  ModelOptions model_options;  // where a Wan model's parts run, and its DiT in fp8
  bool prompt_given = false;
};

// Reads the shared options. The attention mode comes from --attention, else the preset's mode
// (--attention-preset), else `default_mode`; the knob flags (--top-p, ...) override the preset.
// Throws UserError for a malformed value, for a sparse setting the mode does not use (the knobs with
// dense attention, --guaranteed-ratio with svg2), and for a Wan memory option that would do nothing: any of
// them with a built-in model (a folder with model.json), --idle-expert-on-cpu on the CPU or with a
// model of one diffusion model (read from the folder's files and headers; nothing loads).
RequestOptions read_request_options(CliArgs& args, AttentionMode default_mode);

// request.resolve(model), as generate and compare check a request before the weights load, with a
// --negative that no step of the run reads (guidance 1 at every step: no unconditional pass)
// refused, naming the guidance. resolve() itself only leaves such a negative prompt out of the
// record: the studio's box may hold text while the artist tries guidance 1.
GenerationRequest resolve_typed_request(const GenerationRequest& request, const ModelManifest& model);

// Throws UserError (with `help` appended) when --prompt was not given, and when it holds only
// blanks. Called after
// CliArgs::finish(), so that a mistyped --promt is named as the unknown option it is.
void require_prompt(const RequestOptions& options, const std::string& help);

// The attention part of it alone (--attention unless `mode_option` is false, --attention-preset and
// the knob flags), for commands that take the sparse settings without a whole request (`svgear
// eval`, whose modes are --modes); `typed`, when set, gets the sparse settings on the command line
// as named there ("--top-p"; not --attention), and a preset file's settings that differ from the
// defaults as "<file name>'s <field>" ("d.json's top_p").
AttentionConfig read_attention_options(CliArgs& args, AttentionMode default_mode,
                                       std::vector<std::string>* typed = nullptr, bool mode_option = true);

// Throws UserError for a sparse setting in `typed` (as named on the command line) that none of
// `modes` uses, rather than run without it: any of them when no mode is sparse, --guaranteed-ratio
// without SVG-EAR. The message says "<runs> runs no sparse mode, … drop it, or <remedy>".
void refuse_attention_options_no_mode_uses(const std::vector<std::string>& typed,
                                           const std::vector<AttentionMode>& modes, const std::string& runs,
                                           const std::string& remedy);

// The model folder given, or the first one under the model search roots; throws UserError saying
// how to make one when there is none. A $SVGEAR_MODELS entry that holds no models is a warning; the
// note naming a default taken from it is left out when `quiet`.
std::filesystem::path model_folder_or_default(const std::optional<std::filesystem::path>& folder, bool quiet = false);

// Throws UserError when `path`, an output `option` names (--output, --out, --trace,
// --dump-attention), is the model's folder or inside it: a file written there could replace the
// weights or the manifest, or be read as one of them next time (a Wan folder's files are found by
// their extension). Paths that cannot be resolved pass: the load or the write says why.
void refuse_inside_model_folder(const std::filesystem::path& path, const std::filesystem::path& model_dir,
                                const std::string& option);

}  // namespace svgear
