// svgear random-model: write a model folder with random weights.

#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "app/cli_args.h"
#include "app/commands.h"
#include "core/io/atomic_file.h"
#include "core/io/bounded_json.h"
#include "core/io/folder_lock.h"
#include "core/io/folders_made.h"
#include "core/pipeline/random_model.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"

namespace svgear {
namespace {

constexpr const char* kHelp = R"(usage: svgear random-model --out DIR [--preset tiny|small] [--seed N|random] [--force]

Writes a model folder with random weights in the built-in models' format (a small pixel-space DiT
and its vocabulary text encoder): for tests, benchmarks and a first run without a trained model.
It generates structured noise, not pictures.
  --out DIR        the model folder to write (required; a folder that exists must be empty)
  --force          replace the model.json and weights of a random model's folder
  --preset NAME    tiny (default) or small
  --seed N|random  the weights' seed (default: the preset's)
)";

// "" when `folder` holds a random model (its model.json's description says so, or without a
// model.json its weights do: a write cut short between the two), else what it holds
// instead, for the refusal. --force replaces a random model's files, never a trained model's (days
// of steps, replaced by noise) nor a folder of other files (`--out / --force`).
std::string other_than_a_random_model(const std::filesystem::path& folder) {
  try {
    const nlohmann::json manifest = read_json_if_small(folder / "model.json", uintmax_t(1) << 20);
    if (manifest.is_object()) {
      const auto description = manifest.find("description");
      if (description != manifest.end() && description->is_string() &&
          description->get<std::string>().starts_with(kRandomModelDescription)) {
        return "";
      }
      const auto name = manifest.find("name");
      const bool named = name != manifest.end() && name->is_string();
      return (named ? "the model '" + name->get<std::string>() + "'" : std::string("a model")) + ", not a random model";
    }
  } catch (const std::exception&) {  // no model.json, or none that reads: other files
  }
  // A write cut short (killed) between the weights and their model.json: weights that say they are
  // random, and no model.json.
  std::error_code ec;
  if (!std::filesystem::exists(folder / "model.json", ec)) {
    try {
      if (SafetensorsFile::open(folder / "model.safetensors")->metadata().contains("svgear_seed")) return "";
    } catch (const std::exception&) {
    }
  }
  return "other files and no random model";
}

// What --out may be: a new or empty folder, or with --force a random model's. --force is suggested
// only where it would be taken.
void check_out_folder(const std::string& out, bool force) {
  std::error_code error;
  if (std::filesystem::exists(out, error) && !std::filesystem::is_directory(out, error)) {
    throw UserError("'" + out + "' is a file, not a folder: choose a new --out (a folder to write the model in)");
  }
  if (!std::filesystem::is_directory(out, error) || std::filesystem::is_empty(out, error)) return;
  const std::string held = other_than_a_random_model(out);
  if (!held.empty()) {
    // --force named only where it was given: said to a user who had not, it read as the way out.
    throw UserError("'" + out + "' holds " + held + (force ? ": --force replaces only a random model's weights. Choose"
                                                           : ", which random-model never replaces: choose") +
                    " a new --out, or remove that folder yourself if it is no longer wanted");
  }
  if (!force) {
    throw UserError("'" + out + "' holds a random model: choose a new --out, or add --force to replace its weights "
                    "with new random ones");
  }
}

}  // namespace

int cmd_random_model(int argc, char** argv) {
  CliArgs args(argc, argv, 2);
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const std::string preset = args.text("preset").value_or("tiny");
  const auto out = args.text("out");
  const auto seed = args.seed("weight generator", "weights");
  const bool force = args.flag("force");
  args.finish();
  // An empty --out ("$DIR" unset) would write into the current folder, past --force's protection.
  if (!out) throw UserError("--out DIR is required (the model folder to write)");
  if (out->empty()) throw UserError("--out is empty: name the model folder to write");
  check_out_folder(*out, force);
  RandomModelSpec spec = random_model_preset(preset);
  if (seed) spec.seed = *seed;
  check_output_file(std::filesystem::path(*out) / "model.safetensors");  // its names, before a folder is made
  // Two runs on one --out would leave one's model.json beside the other's weights: the folder is
  // locked, and looked at again under the lock (the other run may have written it meanwhile).
  const FoldersMade made(*out);  // a full disk left the empty folder it had made
  create_output_folder(*out);
  const FolderLock lock(*out, "another svgear command");
  check_out_folder(*out, force);
  ModelManifest m;
  try {
    m = write_random_model(*out, spec);
  } catch (...) {
    made.remove_empty();
    throw;
  }
  std::printf("wrote %s: %s (%d layers, dim %d, %dx%d x %d frames by default), seed %llu\n", out->c_str(),
              m.name.c_str(), m.dit.num_layers, m.dit.dim, m.defaults.width, m.defaults.height, m.defaults.frames,
              static_cast<unsigned long long>(spec.seed));
  return 0;
}

}  // namespace svgear
