#include "core/pipeline/random_model.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/io/atomic_file.h"
#include "core/model/wan_random_weights.h"
#include "core/user_error.h"
#include "core/weights/safetensors_writer.h"

namespace svgear {
namespace {

const std::vector<std::string> kVocabulary = {
    "a", "an", "the", "and", "over", "moves", "red", "green", "blue", "yellow", "white", "black",
    "circle", "square", "triangle", "star", "left", "right", "up", "down", "sky", "small", "large"};

}  // namespace

RandomModelSpec random_model_preset(std::string_view preset) {
  RandomModelSpec spec;
  spec.name = "random-" + std::string(preset);
  spec.vocabulary = kVocabulary;
  spec.seed = 20261128;
  WanConfig& c = spec.dit;
  c.in_dim = 3;
  c.out_dim = 3;
  c.patch_size = {1, 4, 4};
  c.text_len = 16;
  spec.max_tokens = 16;
  if (preset == "tiny") {
    c.dim = 64;
    c.ffn_dim = 128;
    c.freq_dim = 32;
    c.text_dim = 32;
    c.num_heads = 2;
    c.num_layers = 2;
    spec.defaults.frames = 4;
    spec.defaults.height = 32;
    spec.defaults.width = 32;
    spec.defaults.steps = 4;
    spec.defaults.guidance = 3.0;
    spec.defaults.shift = 3.0;
  } else if (preset == "small") {
    c.dim = 128;
    c.ffn_dim = 256;
    c.freq_dim = 64;
    c.text_dim = 64;
    c.num_heads = 2;
    c.num_layers = 4;
    spec.defaults.frames = 16;
    spec.defaults.height = 64;
    spec.defaults.width = 64;
    spec.defaults.steps = 10;
  } else {
    throw UserError("unknown random model preset '" + std::string(preset) + "' (choose tiny or small)");
  }
  return spec;
}

ModelManifest write_random_model(const std::filesystem::path& folder, const RandomModelSpec& spec) {
  ModelManifest m;
  m.folder = folder;
  m.name = spec.name;
  m.description = kRandomModelDescription;
  // The seed, so a model drawn with --seed random can be made again.
  m.description += " (for tests and benchmarks; generates structured noise; seed " + std::to_string(spec.seed) + ")";
  m.dit = spec.dit;
  m.latent = LatentKind::Pixel;
  m.text_encoder = TextEncoderKind::Vocab;
  m.vocabulary = spec.vocabulary;
  m.max_tokens = spec.max_tokens;
  m.weight_files = {"model.safetensors"};
  m.defaults = spec.defaults;

  std::vector<std::pair<std::string, at::Tensor>> tensors = wan_random_weights(spec.dit, spec.seed).state_dict();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(spec.seed + 1);
  tensors.emplace_back("text_encoder.token_embedding.weight",
                       at::randn({int64_t(spec.vocabulary.size()), spec.dit.text_dim}, gen, at::kFloat));
  // Both files checked before either is written: new weights beside an old model.json would be a
  // model that loads as something it is not.
  check_output_file(folder / "model.safetensors");
  check_output_file(folder / "model.json");
  // An old model.json goes first: a write that is interrupted between the two files then leaves a
  // folder that is no model (which --force may replace: its weights say they are random), not new
  // weights under the old manifest. A write that fails (a full disk) leaves the old weights, and
  // puts their model.json back: the folder stays the model it was.
  std::error_code ec;
  std::optional<std::string> old_manifest;
  if (std::filesystem::is_regular_file(folder / "model.json", ec)) {
    std::ifstream in(folder / "model.json", std::ios::binary);
    old_manifest = std::string(std::istreambuf_iterator<char>(in), {});
  }
  if (!std::filesystem::remove(folder / "model.json", ec) && ec) {
    throw UserError("cannot replace " + (folder / "model.json").string() + ": " + ec.message());
  }
  try {
    write_safetensors(folder / "model.safetensors", tensors,
                      {{"format", "pt"}, {"svgear_model", spec.name}, {"svgear_seed", std::to_string(spec.seed)}});
  } catch (...) {
    if (old_manifest) {
      try {
        write_file_atomically(folder / "model.json", *old_manifest);
      } catch (const std::exception&) {  // the weights' error is the one to report
      }
    }
    throw;
  }
  write_json_atomically(folder / "model.json", m.to_json());
  m.raw = m.to_json();
  return m;
}

}  // namespace svgear
