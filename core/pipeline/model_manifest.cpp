#include "core/pipeline/model_manifest.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <type_traits>

#include "core/io/bounded_json.h"
#include "core/pipeline/wan_folder.h"
#include "core/shapes/prompt_grammar.h"
#include "core/text/nearest_words.h"
#include "core/text/vocab_text_encoder.h"
#include "core/user_error.h"
#include "svgear/build_config.h"

namespace svgear {
namespace {

constexpr const char* kFormat = "svgear-model/1";

template <typename T>
T field_or(const nlohmann::json& j, const char* key, T fallback, const std::string& where) {
  if (!j.contains(key)) return fallback;
  if constexpr (std::is_same_v<T, int>) {
    if (!is_int_number(j.at(key))) {
      throw UserError(where + ": field '" + key + "' has the wrong type (" + whole_number_expected(j.at(key)) +
                      " is expected), got " + j.at(key).dump());
    }
  }
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw UserError(where + ": field '" + key + "' has the wrong type");
  }
}

// The object under `key` ("defaults"), or an empty one when the file leaves it out: a section of
// another type would otherwise read as empty and drop every value in it without a word.
nlohmann::json section(const nlohmann::json& j, const char* key, const std::string& where) {
  const nlohmann::json value = j.value(key, nlohmann::json::object());
  if (!value.is_object()) {
    throw UserError(where + ": \"" + key + "\" must be an object of fields ({…}), got " + quoted_word(value.dump()));
  }
  return value;
}

// A list of weight files: not empty, each inside the model folder (a model folder is
// self-contained: a name outside it, "/etc/passwd" or "../x", is a hostile or broken file).
std::vector<std::string> weight_list(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto names = field_or<std::vector<std::string>>(j, key, {}, where);
  if (names.empty()) throw UserError(where + ": \"" + key + "\" lists no files");
  for (const std::string& name : names) {
    const std::filesystem::path p(name);
    // A NUL would end the name where the file system reads it: "model.safetensors\0.x" opened model.safetensors.
    const bool inside = !name.empty() && name.find('\0') == std::string::npos && p.is_relative() &&
                        std::none_of(p.begin(), p.end(), [](const std::filesystem::path& part) { return part == ".."; });
    if (!inside) {
      // The name as JSON writes it: a NUL or a line break shows as \u0000, \n.
      throw UserError(where + ": \"" + key + "\" names " + nlohmann::json(name).dump() +
                      ", which is not a file inside the model folder");
    }
  }
  // Its tensors would each be found twice, and the load would blame a shard "that does not belong".
  std::set<std::filesystem::path> listed;
  for (const std::string& name : names) {
    if (!listed.insert(std::filesystem::path(name).lexically_normal()).second) {
      throw UserError(where + ": \"" + key + "\" lists " + nlohmann::json(name).dump() + " twice");
    }
  }
  return names;
}

// A key `fields` does not name (a typo: "stesp" in "defaults") would leave its value unread and
// the model running on the default without a word. Keys starting with '_' are notes, passed over.
void refuse_unknown_fields(const nlohmann::json& j, const std::vector<std::string>& fields, const std::string& where,
                           const std::string& section) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    // "_comment", "_license": JSON's usual way to annotate a file, read by no one.
    if (it.key().starts_with('_') || std::find(fields.begin(), fields.end(), it.key()) != fields.end()) continue;
    std::string listed;
    for (const std::string& field : fields) listed += (listed.empty() ? "" : ", ") + field;
    throw UserError(where + ": " + (section.empty() ? std::string("the file") : "\"" + section + "\"") +
                    " has no field " + quoted_word(it.key()) + " (" + typo_hint(it.key(), fields) +
                    "its fields: " + listed + ")");
  }
}

}  // namespace

ModelManifest ModelManifest::read(const std::filesystem::path& folder) {
  const std::filesystem::path path = folder / "model.json";
  const std::string where = path.string();
  require_regular_file(path, "a model folder's model.json");  // info's and the studio's scans read it
  errno = 0;
  std::ifstream in(path);
  if (!in) {
    // A folder or model.json this user may not read is no missing file: chmod mends it, not a new folder.
    if (errno == EACCES) {
      throw UserError("cannot read '" + where + "': permission denied (make the folder and its files readable)");
    }
    if (errno != 0 && errno != ENOENT) throw UserError("cannot read '" + where + "': " + std::strerror(errno));
    throw UserError("no model at '" + folder.string() +
                    "': model.json is missing (pick a folder that holds model.json and its .safetensors)");
  }
  // A model.json holds sizes, a vocabulary and a training record: kilobytes. Every scan of the models
  // reads it (the studio's at start), so a larger file is refused unread.
  constexpr uintmax_t kMaxManifestBytes = 16 << 20;
  if (std::error_code ec; std::filesystem::file_size(path, ec) > kMaxManifestBytes && !ec) {
    throw UserError(where + " is larger than any model's (" + std::to_string(kMaxManifestBytes >> 20) +
                    " MB): is it the right file?");
  }
  ModelManifest m;
  m.folder = folder;
  try {
    m.raw = parse_bounded_json(in);
  } catch (const nlohmann::json::exception& e) {
    throw UserError(where + " is not valid JSON: " + json_error_text(e));
  }
  const nlohmann::json& j = m.raw;
  if (!j.is_object() || field_or<std::string>(j, "format", "", where) != kFormat) {
    throw UserError(where + ": expected \"format\": \"" + kFormat + "\"");
  }
  // "training" is the record `svgear train` keeps, free-form.
  refuse_unknown_fields(j, {"format", "name", "description", "dit", "latent", "text_encoder", "weights",
                            "low_noise_expert", "defaults", "training"},
                        where, "");
  // Without one, the folder's own name ("models/mine/" is "mine", not the empty name after the slash).
  std::filesystem::path named = std::filesystem::absolute(folder).lexically_normal();
  if (!named.has_filename()) named = named.parent_path();
  m.name = field_or<std::string>(j, "name", named.filename().string(), where);
  // Printed as "model <name> on cpu" and listed by name: an empty one is no name.
  if (m.name.empty() && j.contains("name")) {
    throw UserError(where + ": \"name\" is empty (leave it out to use the folder's name)");
  }
  m.description = field_or<std::string>(j, "description", "", where);
  if (!j.contains("dit")) throw UserError(where + ": the \"dit\" section is missing");
  try {
    m.dit = WanConfig::from_json(j.at("dit"));
  } catch (const UserError& e) {
    // The DiT is Wan's architecture, but this is no Wan model's config: the section is named instead.
    std::string what = e.what();
    if (constexpr std::string_view wan = "Wan config: "; what.starts_with(wan)) what.erase(0, wan.size());
    throw UserError(where + ": its \"dit\" section: " + what);
  }
  // Only here: a Wan folder's config.json, which from_json reads too, holds keys of its own.
  std::vector<std::string> dit_fields;
  const nlohmann::json dit_written = m.dit.to_json();
  for (auto it = dit_written.begin(); it != dit_written.end(); ++it) dit_fields.push_back(it.key());
  refuse_unknown_fields(j.at("dit"), dit_fields, where, "dit");

  // A section or type left out is named as missing, not as an unsupported type ''.
  const auto require_typed = [&](const char* key, const nlohmann::json& sec, const char* example) {
    const std::string e_g = std::string(" (e.g. \"") + key + "\": " + example + ")";
    if (!j.contains(key)) throw UserError(where + ": the \"" + key + "\" section is missing" + e_g);
    if (!sec.contains("type")) throw UserError(where + ": \"" + key + "\" has no \"type\"" + e_g);
  };
  const nlohmann::json latent = section(j, "latent", where);
  require_typed("latent", latent, "{\"type\": \"pixel\"}");
  const std::string latent_type = field_or<std::string>(latent, "type", "", where);
  if (latent_type != "pixel") {
    throw UserError(where + ": latent type '" + latent_type + "' is not supported (supported: pixel)");
  }
  refuse_unknown_fields(latent, {"type"}, where, "latent");
  m.latent = LatentKind::Pixel;
  // Checked with the file, so that `info --model` refuses what a load would.
  if (m.dit.in_dim != 3 || m.dit.out_dim != 3) {
    throw UserError(where + ": a pixel-space model needs dit.in_dim = dit.out_dim = 3 (RGB), got " +
                    std::to_string(m.dit.in_dim) + " and " + std::to_string(m.dit.out_dim));
  }

  const nlohmann::json text = section(j, "text_encoder", where);
  require_typed("text_encoder", text, "{\"type\": \"vocab\", \"vocabulary\": [...]}");
  const std::string text_type = field_or<std::string>(text, "type", "", where);
  if (text_type != "vocab") {
    throw UserError(where + ": text encoder type '" + text_type + "' is not supported (supported: vocab)");
  }
  refuse_unknown_fields(text, {"type", "vocabulary", "max_tokens", "layers", "heads", "grammar"}, where,
                        "text_encoder");
  m.text_encoder = TextEncoderKind::Vocab;
  m.vocabulary = field_or<std::vector<std::string>>(text, "vocabulary", {}, where);
  m.max_tokens = field_or<int>(text, "max_tokens", m.dit.text_len, where);
  if (m.vocabulary.empty()) throw UserError(where + ": the text encoder's vocabulary is empty");
  try {
    VocabTextEncoder::check_vocabulary(m.vocabulary);
  } catch (const UserError& e) {
    throw UserError(where + ": " + e.what());
  }
  if (m.max_tokens <= 0 || m.max_tokens > m.dit.text_len) {
    throw UserError(where + ": max_tokens must be in 1.." + std::to_string(m.dit.text_len));
  }
  m.text_layers = field_or<int>(text, "layers", 0, where);
  m.text_heads = field_or<int>(text, "heads", 0, where);
  // The loader's sanity bound (a corrupt or hostile file), not a training limit.
  if (m.text_layers < 0 || m.text_layers > 64 || (m.text_layers > 0 && m.text_heads <= 0)) {
    throw UserError(where + ": text_encoder.layers must be in 0..64, and heads positive when there are layers");
  }
  if (m.text_layers > 0 && m.dit.text_dim % m.text_heads != 0) {
    throw UserError(where + ": text_encoder.heads (" + std::to_string(m.text_heads) + ") must divide dit.text_dim (" +
                    std::to_string(m.dit.text_dim) + ")");
  }
  m.prompt_grammar = field_or<std::string>(text, "grammar", "", where);
  if (!m.prompt_grammar.empty() && m.prompt_grammar != kShapesWorldGrammar) {
    throw UserError(where + ": text_encoder.grammar '" + m.prompt_grammar + "' is not known (known: " +
                    kShapesWorldGrammar + ")");
  }
  // Every prompt reaches the token table in the grammar's wording: a word of it missing (renamed by
  // hand) had passed `info --model` and failed the prompts that use it, as if the user's word.
  if (m.prompt_grammar == kShapesWorldGrammar) {
    for (const std::string& word : canonical_words()) {
      if (std::find(m.vocabulary.begin(), m.vocabulary.end(), word) == m.vocabulary.end()) {
        throw UserError(where + ": text_encoder.vocabulary lacks '" + word + "', a word of the " + kShapesWorldGrammar +
                        " grammar's wording, in which every prompt reaches the model: the file was edited, or made "
                        "for another version of the grammar");
      }
    }
  }

  m.weight_files = weight_list(j, "weights", where);
  if (j.contains("low_noise_expert")) {
    const nlohmann::json& expert = j.at("low_noise_expert");
    if (!expert.is_object()) throw UserError(where + ": \"low_noise_expert\" must be an object");
    refuse_unknown_fields(expert, {"weights", "boundary"}, where, "low_noise_expert");
    LowNoiseExpert low;
    low.weight_files = weight_list(expert, "weights", where + ", low_noise_expert");
    low.boundary = field_or<double>(expert, "boundary", 0.0, where);
    if (!(low.boundary > 0.0 && low.boundary < 1.0)) {
      throw UserError(where + ": low_noise_expert.boundary must be between 0 and 1 (Wan2.2-T2V-A14B's is 0.875)");
    }
    m.low_noise_expert = std::move(low);
  }

  const nlohmann::json d = section(j, "defaults", where);
  refuse_unknown_fields(d,
                        {"sampler", "steps", "guidance", "shift", "frames", "height", "width", "fps", "negative_prompt",
                         "low_noise_guidance"},
                        where, "defaults");
  SamplingDefaults& s = m.defaults;
  const std::string sampler = field_or<std::string>(d, "sampler", sampler_kind_name(s.sampler), where);
  try {
    s.sampler = parse_sampler_kind(sampler);
  } catch (const UserError& e) {
    throw UserError(where + ": defaults.sampler: " + e.what());
  }
  s.steps = field_or<int>(d, "steps", s.steps, where);
  s.guidance = field_or<double>(d, "guidance", s.guidance, where);
  s.shift = field_or<double>(d, "shift", s.shift, where);
  s.frames = field_or<int>(d, "frames", s.frames, where);
  s.height = field_or<int>(d, "height", s.height, where);
  s.width = field_or<int>(d, "width", s.width, where);
  s.fps = field_or<double>(d, "fps", s.fps, where);
  s.negative_prompt = field_or<std::string>(d, "negative_prompt", s.negative_prompt, where);
  if (m.low_noise_expert) {
    s.low_noise_guidance = field_or<double>(d, "low_noise_guidance", s.guidance, where);
  } else if (d.contains("low_noise_guidance")) {
    throw UserError(where + ": defaults.low_noise_guidance is for a model with a low_noise_expert");
  }
  return m;
}

nlohmann::json ModelManifest::to_json() const {
  nlohmann::json j;
  j["format"] = kFormat;
  j["name"] = name;
  j["description"] = description;
  j["dit"] = dit.to_json();
  if (latent == LatentKind::WanVae) {
    j["latent"] = {{"type", "wan_vae"}, {"file", vae_file}};
  } else {
    j["latent"] = {{"type", "pixel"}};
  }
  if (text_encoder == TextEncoderKind::Umt5) {
    j["text_encoder"] = {{"type", "umt5"}, {"files", text_encoder_files}, {"tokenizer", tokenizer}};
  } else {
    j["text_encoder"] = {{"type", "vocab"}, {"vocabulary", vocabulary}, {"max_tokens", max_tokens}};
    if (!prompt_grammar.empty()) j["text_encoder"]["grammar"] = prompt_grammar;
    if (text_layers > 0) {
      j["text_encoder"]["layers"] = text_layers;
      j["text_encoder"]["heads"] = text_heads;
    }
  }
  j["weights"] = weight_files;
  if (low_noise_expert) {
    j["low_noise_expert"] = {{"weights", low_noise_expert->weight_files}, {"boundary", low_noise_expert->boundary}};
  }
  j["defaults"] = {{"sampler", sampler_kind_name(defaults.sampler)},
                   {"steps", defaults.steps},
                   {"guidance", defaults.guidance},
                   {"shift", defaults.shift},
                   {"frames", defaults.frames},
                   {"height", defaults.height},
                   {"width", defaults.width},
                   {"fps", defaults.fps},
                   {"negative_prompt", defaults.negative_prompt}};
  if (defaults.low_noise_guidance) j["defaults"]["low_noise_guidance"] = *defaults.low_noise_guidance;
  return j;
}

int first_low_noise_step(const std::vector<double>& timesteps, double boundary) {
  const double threshold = boundary * 1000.0;  // Wan's num_train_timesteps
  int step = 0;
  while (step < int(timesteps.size()) && timesteps[step] >= threshold) ++step;
  return step;
}

namespace {

// A complete Wan folder without a model.json (WanFolder: both layouts). Only folders with
// safetensors at the top or a transformer/ folder are tried; WanFolder reads just the headers.
// `why_not` gets WanFolder's error for a folder with a Wan diffusion model that is yet no model
// (incomplete, ambiguous, a VAE pickle beside it: holds_wan_diffusion_model), not for other weights.
bool is_wan_folder(const std::filesystem::path& folder, std::string& why_not) {
  std::error_code ec;
  bool candidate = std::filesystem::is_directory(folder / "transformer", ec) ||
                   std::filesystem::is_directory(folder / "high_noise_model", ec) ||  // Wan-AI's A14B
                   std::filesystem::is_directory(folder / "diffusion_models", ec);   // ComfyUI's folders
  // increment(ec), not ++: a read error mid-listing ends it instead of throwing (the scans run on
  // the studio's GUI thread).
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".safetensors") candidate = true;
  }
  if (!candidate) return false;
  std::string why;
  try {
    WanFolder::find(folder);
    return true;
  } catch (const UserError& e) {
    why = e.what();  // incomplete or ambiguous
  } catch (const std::filesystem::filesystem_error& e) {
    why = e.what();  // unreadable here (permissions, a link loop)
  }
  if (holds_wan_diffusion_model(folder)) why_not = why;
  return false;
}

}  // namespace

std::vector<std::filesystem::path> find_model_folders(const std::filesystem::path& root,
                                                      std::vector<NotAModel>* not_models) {
  std::vector<std::filesystem::path> found;
  std::vector<NotAModel> broken;
  bool root_broken = false;
  const auto take = [&](const std::filesystem::path& folder) {
    std::error_code ec;
    std::string why_not;
    if (std::filesystem::exists(folder / "model.json", ec) || is_wan_folder(folder, why_not)) return true;
    // Not the parts of a root that is itself a Wan folder missing something (its diffusion_models/).
    if (!why_not.empty() && !root_broken) {
      broken.push_back({folder, why_not});
      root_broken = folder == root;
    }
    return false;
  };
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) return found;
  if (take(root)) return {root};
  for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {  // as above
    // A folder this user may not read, or a link loop, is skipped, not the end of the listing.
    std::error_code entry_error;
    if (it->is_directory(entry_error) && take(it->path())) found.push_back(it->path());
  }
  std::sort(found.begin(), found.end());
  std::sort(broken.begin(), broken.end(), [](const NotAModel& x, const NotAModel& y) { return x.folder < y.folder; });
  if (not_models) not_models->insert(not_models->end(), broken.begin(), broken.end());
  return found;
}

std::filesystem::path builtin_models_root() {
  std::error_code ec;
  const std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed = executable.parent_path().parent_path() / "share" / "svgear" / "models";
    if (std::filesystem::is_directory(installed, ec)) return installed;
  }
  return std::filesystem::path(SVGEAR_SOURCE_DIR) / "resources" / "models";
}

std::vector<std::filesystem::path> model_search_roots() {
  std::vector<std::filesystem::path> roots;
  if (const char* env = std::getenv("SVGEAR_MODELS")) {
    std::stringstream list(env);
    std::string item;
    while (std::getline(list, item, ':')) {
      if (!item.empty()) roots.emplace_back(item);
    }
  }
  roots.push_back(builtin_models_root());
  // A folder named twice (SVGEAR_MODELS=…/resources/models, or "a:a/") is searched once: its
  // models would be listed twice. The first mention stays.
  std::vector<std::filesystem::path> unique;
  std::vector<std::filesystem::path> seen;
  for (const auto& root : roots) {
    std::error_code ec;
    std::filesystem::path canonical = std::filesystem::weakly_canonical(root, ec);
    if (ec) canonical = root.lexically_normal();
    if (!canonical.has_filename()) canonical = canonical.parent_path();  // "a/" is "a"
    if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) continue;
    seen.push_back(canonical);
    unique.push_back(root);
  }
  return unique;
}

std::vector<std::string> model_search_notes() {
  std::vector<std::string> notes;
  const std::vector<std::filesystem::path> roots = model_search_roots();
  for (size_t i = 0; i + 1 < roots.size(); ++i) {  // the last is the built-in models' folder
    std::error_code ec;
    const auto status = std::filesystem::status(roots[i], ec);
    if (status.type() == std::filesystem::file_type::directory) continue;
    // A link loop or a folder on the way that may not be entered: its reason, not "not a folder".
    const std::string why = status.type() == std::filesystem::file_type::not_found ? "does not exist"
                            : ec ? "cannot be opened (" + ec.message() + ")"
                                 : "is not a folder";
    notes.push_back("SVGEAR_MODELS names '" + roots[i].string() + "', which " + why + ": it holds no models");
  }
  return notes;
}

namespace {

// The default among the models of the first root that has any; `builtin`: that root is the built-in models'.
std::filesystem::path default_among(const std::vector<std::filesystem::path>& found, bool builtin) {
  if (builtin) {
    const auto shapes_s =
        std::find_if(found.begin(), found.end(), [](const auto& f) { return f.filename() == "shapes-s"; });
    if (shapes_s != found.end()) return *shapes_s;
  }
  return found.front();
}

}  // namespace

ModelScan scan_model_roots() {
  ModelScan scan;
  // Once each: a folder found from two roots (SVGEAR_MODELS naming a model folder and its parent,
  // or the built-in one) is one entry.
  std::set<std::filesystem::path> seen;
  const auto first_time = [&seen](const std::filesystem::path& folder) {
    std::error_code ec;
    const std::filesystem::path canonical = std::filesystem::weakly_canonical(folder, ec);
    return seen.insert(ec ? folder.lexically_normal() : canonical).second;
  };
  const std::vector<std::filesystem::path> roots = model_search_roots();
  for (const auto& root : roots) {
    std::vector<NotAModel> not_models;
    const auto found = find_model_folders(root, &not_models);
    for (const auto& folder : found) {
      if (first_time(folder)) scan.folders.push_back(folder);
    }
    for (auto& not_model : not_models) {
      if (first_time(not_model.folder)) scan.not_models.push_back(std::move(not_model));
    }
    if (!found.empty() && !scan.default_folder) {
      scan.default_folder = default_among(found, root == roots.back());
      scan.default_builtin = root == roots.back();
    }
  }
  return scan;
}

}  // namespace svgear
