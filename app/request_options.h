#pragma once
// The options `svgear generate` and `svgear compare` share: what to generate (prompt, seed,
// sampling, size), the attention settings, the model folder and the device. Both commands read
// them here so the same flags mean the same request.

#include <filesystem>
#include <optional>
#include <string>

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
// Throws UserError for a malformed value, and for a Wan memory option that would do nothing: any of
// them with a built-in model (a folder with model.json), --idle-expert-on-cpu on the CPU or with a
// model of one diffusion model (read from the folder's files and headers; nothing loads).
RequestOptions read_request_options(CliArgs& args, AttentionMode default_mode);

// Throws UserError (with `help` appended) when --prompt was not given. Called after
// CliArgs::finish(), so that a mistyped --promt is named as the unknown option it is.
void require_prompt(const RequestOptions& options, const std::string& help);

// The attention part of it alone (--attention, --attention-preset and the knob flags), for commands
// that take the sparse settings without a whole request (`svgear eval`); `given`, when set, tells
// whether any of them was on the command line.
AttentionConfig read_attention_options(CliArgs& args, AttentionMode default_mode, bool* given = nullptr);

// The model folder given, or the first one under the model search roots; throws UserError saying
// how to make one when there is none.
std::filesystem::path model_folder_or_default(const std::optional<std::filesystem::path>& folder);

}  // namespace svgear
