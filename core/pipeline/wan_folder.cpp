#include "core/pipeline/wan_folder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/decoder/wan_vae_weights.h"
#include "core/io/bounded_json.h"
#include "core/io/file_extension.h"
#include "core/io/not_a_file.h"
#include "core/model/wan_weight_names.h"
#include "core/model/wan_weights.h"
#include "core/pipeline/wan_variant.h"
#include "core/text/umt5_tokenizer.h"
#include "core/text/umt5_weights.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"

namespace svgear {
namespace {

namespace fs = std::filesystem;

constexpr const char* kComfyRepo = "Comfy-Org/Wan_2.1_ComfyUI_repackaged";
constexpr const char* kDiffusersRepo = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers";
constexpr const char* kShardIndex = "diffusion_pytorch_model.safetensors.index.json";
// upstream wan/configs/wan_t2v_A14B.py `boundary`: the high-noise expert takes timesteps ≥ 875.
constexpr double kWan22T2vBoundary = 0.875;

// Regular files directly in `dir` that `keep` accepts, sorted; none when `dir` does not exist.
template <class Keep>
std::vector<fs::path> files_in(const fs::path& dir, const Keep& keep) {
  std::vector<fs::path> out;
  std::error_code ec;
  // Stepped with error codes (a range-for's ++ throws on a read error partway through the listing).
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type;
    if (it->is_regular_file(type) && keep(it->path())) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool is_safetensors_name(const fs::path& path) { return path.extension() == ".safetensors"; }

std::vector<fs::path> safetensors_in(const fs::path& dir) { return files_in(dir, is_safetensors_name); }

std::vector<fs::path> pickles_in(const fs::path& dir) { return files_in(dir, has_pickle_extension); }

bool holds_tensor_ending(const fs::path& path, std::string_view suffix) {
  const auto file = SafetensorsFile::open(path);
  for (const TensorEntry& entry : file->tensors()) {
    if (wan_prefix_of(entry.name, suffix)) return true;
  }
  return false;
}

// Whether the header text of a file that does not open (cut short, damaged past its header) names a
// tensor `"<prefix.>suffix"`: the first 8 bytes' length, up to 16 MB and the file's end.
bool damaged_header_names(const fs::path& path, std::string_view suffix) {
  std::ifstream in(path, std::ios::binary);
  uint8_t length_bytes[8];
  if (!in.read(reinterpret_cast<char*>(length_bytes), 8)) return false;
  constexpr uint64_t kSearched = 16 << 20;  // a Wan DiT's header is under 1 MB; a renamed video is not read whole
  std::string text(std::min(safetensors_header_length(length_bytes), kSearched), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  const std::string key = std::string(suffix) + "\"";
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
    if (at > 0 && (text[at - 1] == '"' || text[at - 1] == '.')) return true;
  }
  return false;
}

// A Wan VAE's first decoder convolution, in the original or the Diffusers names, and 3-D (a weight
// of 5 dimensions); other .safetensors files (notes, an encoder-only file, an image VAE such as
// Flux's ae.safetensors, whose decoder.conv_in is 2-D) are not taken for a VAE.
bool holds_wan_vae(const fs::path& path) {
  const auto file = SafetensorsFile::open(path);
  for (const TensorEntry& entry : file->tensors()) {
    if ((entry.name.ends_with("decoder.conv1.weight") || entry.name.ends_with("decoder.conv_in.weight")) &&
        entry.shape.size() == 5) {
      return true;
    }
  }
  return false;
}

std::string name_list(const std::vector<fs::path>& paths) {
  std::string out;
  for (const auto& p : paths) out += (out.empty() ? "" : ", ") + p.filename().string();
  return out;
}

// The shards an index json names (weight_map values), in order of first mention; each must exist.
std::vector<fs::path> shards_of(const fs::path& index_path) {
  require_regular_file(index_path, "a shard index");
  std::ifstream in(index_path);
  nlohmann::json index;
  try {
    index = parse_bounded_json(in);
  } catch (const nlohmann::json::exception& e) {
    throw UserError(index_path.string() + " is not valid JSON (" + json_error_text(e) + "): download it again");
  }
  if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw UserError(index_path.string() + " has no \"weight_map\": download it again");
  }
  std::vector<fs::path> shards;
  std::vector<std::string> missing;
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) throw UserError(index_path.string() + ": the shard of " + tensor + " is not a file name");
    // Shards sit beside their index: a name outside its folder ("/etc/passwd", "../x") is a hostile
    // or broken index, not a place to read from.
    const fs::path name(shard.get<std::string>());
    if (name.empty() || !name.is_relative() || name.has_parent_path()) {
      throw UserError(index_path.string() + ": the shard of " + tensor + ", '" + name.string() +
                      "', is not a file beside the index");
    }
    const fs::path path = index_path.parent_path() / name;
    if (std::find(shards.begin(), shards.end(), path) != shards.end()) continue;
    shards.push_back(path);
    if (!fs::is_regular_file(path)) missing.push_back(path.string() + there_but_not_a_file(path));
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += "\n  " + m;
    throw UserError(index_path.string() + " lists shards that are missing or hold no file; download them:" + list);
  }
  if (shards.empty()) throw UserError(index_path.string() + " lists no shards");
  return shards;
}

[[noreturn]] void refuse_pickles(const std::vector<fs::path>& pickles, const std::string& instead) {
  throw UserError("'" + pickles.front().string() + "' is a PyTorch pickle by its extension" +
                  (pickles.size() > 1 ? " (so are " + name_list({pickles.begin() + 1, pickles.end()}) + ")" : "") +
                  ", which the studio does not load because opening it can run code. Use " + instead);
}

// A DiT sharded in `dir` as Diffusers and Wan-AI save it (an index and its shards, or one
// diffusion_pytorch_model.safetensors): `what` names the folder in messages, `repo` where its
// download is (its folder of the same name).
std::vector<fs::path> find_sharded_dit(const fs::path& dir, const std::string& what, const std::string& repo) {
  if (fs::is_regular_file(dir / kShardIndex)) return shards_of(dir / kShardIndex);
  const fs::path single = dir / "diffusion_pytorch_model.safetensors";
  if (fs::is_regular_file(single)) return {single};
  const std::string subfolder = dir.filename().string();
  if (const auto pickles = pickles_in(dir); !pickles.empty()) {
    refuse_pickles(pickles, "the safetensors files of the same repository (" + repo + ", " + subfolder +
                                "/diffusion_pytorch_model*.safetensors)");
  }
  throw UserError(what + " '" + dir.string() + "' holds no weights: looked for " + (dir / kShardIndex).string() +
                  " with its shards and " + single.string() + "." + entries_not_files({dir}, is_safetensors_name) +
                  " Download " + subfolder + "/ of " + repo);
}

// Every VAE file of the folder (holds_wan_vae, at the top or in vae/), original names first (a
// wan_2.1_vae.safetensors put beside a Diffusers vae/), then Diffusers names; read_wan_manifest
// picks the one of the DiT's version.
std::vector<fs::path> find_vaes(const fs::path& folder, const std::vector<fs::path>& root_vaes) {
  std::vector<fs::path> candidates = root_vaes;
  for (const auto& path : safetensors_in(folder / "vae")) {
    if (holds_wan_vae(path)) candidates.push_back(path);
  }
  std::stable_partition(candidates.begin(), candidates.end(),
                        [](const fs::path& path) { return holds_tensor_ending(path, "decoder.conv1.weight"); });
  if (!candidates.empty()) return candidates;
  // At the top, only a file whose name says VAE is one; in vae/, any.
  const auto says_vae = [](const fs::path& path) {
    std::string name = path.filename().string();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    return name.find("vae") != std::string::npos;
  };
  std::vector<fs::path> pickles;
  for (const auto& dir : {folder, folder / "vae"}) {
    for (const auto& p : pickles_in(dir)) {
      if (says_vae(p) || dir != folder) pickles.push_back(p);
    }
  }
  if (!pickles.empty()) {
    // Wan-AI's Wan2.1_VAE.pth or Wan2.2_VAE.pth: the name says which safetensors file replaces it.
    refuse_pickles(pickles, wan_vae_download(wan_vae_version_from_name(pickles.front())));
  }
  const auto vae_file_name = [&](const fs::path& p) { return is_safetensors_name(p) && says_vae(p); };
  // A file that calls itself a VAE but lacks that convolution: damaged, or a VAE of another model.
  std::string named_vaes;
  int named = 0;
  for (const auto& dir : {folder, folder / "vae"}) {
    for (const auto& p : safetensors_in(dir)) {
      if (!says_vae(p) && dir == folder) continue;
      named_vaes += (named++ ? ", " : " ") + p.string();
    }
  }
  if (named > 0) {
    named_vaes += named == 1 ? " holds no such 3-D convolution: it is damaged (download or copy it again) or "
                               "the VAE of another model."
                             : " hold no such 3-D convolution: each is damaged or the VAE of another model.";
  }
  throw UserError("no Wan VAE in '" + folder.string() + "': looked for a .safetensors holding "
                  "decoder.conv1.weight (Diffusers: decoder.conv_in.weight) in " + folder.string() +
                  " and in " + (folder / "vae").string() + "." + named_vaes +
                  entries_not_files({folder}, vae_file_name) +
                  entries_not_files({folder / "vae"}, is_safetensors_name) + " Download " +
                  wan_vae_download(WanVaeVersion::Wan21) +
                  " into the folder (for Wan 2.1 models; Wan2.2-TI2V-5B needs " +
                  wan_vae_download(WanVaeVersion::Wan22) + ")");
}

}  // namespace

const char* wan_layout_name(WanLayout layout) {
  switch (layout) {
    case WanLayout::Original: return "original";
    case WanLayout::Diffusers: return "diffusers";
    case WanLayout::Unset: break;
  }
  return "unset";
}

namespace {

constexpr const char* kA14bRepo = "Wan-AI/Wan2.2-T2V-A14B";
constexpr const char* kA14bDiffusersRepo = "Wan-AI/Wan2.2-T2V-A14B-Diffusers";
constexpr const char* kA14bComfyRepo = "Comfy-Org/Wan_2.2_ComfyUI_Repackaged";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return text;
}

bool is_high_noise_name(const fs::path& path) { return lower(path.filename().string()).find("high_noise") != std::string::npos; }
bool is_low_noise_name(const fs::path& path) { return lower(path.filename().string()).find("low_noise") != std::string::npos; }

// One expert's folder chosen (Wan-AI's high_noise_model/, Diffusers' transformer_2/) with the other
// parts copied in would load as Wan2.1-T2V-14B and run every step on one expert: the folder above
// holds the pair. By the folder's real name (a link to it included); other names containing
// "high_noise" may be anyone's.
void refuse_expert_folder_itself(const fs::path& folder) {
  const fs::path self = fs::canonical(folder);  // find() checked that it exists
  const fs::path name = self.filename();
  if (name != "high_noise_model" && name != "low_noise_model" && name != "transformer_2") return;
  throw UserError("'" + folder.string() + "' is " + name.string() + ", one expert of Wan2.2-A14B: choose the folder "
                  "that holds both experts ('" + self.parent_path().string() + "' for " + kA14bRepo + ")");
}

// Diffusers' model_index.json "boundary_ratio" (Wan2.2-T2V-A14B: 0.875); nullopt when the file or
// the value is absent.
std::optional<double> read_boundary_ratio(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  require_regular_file(path, "a Diffusers model_index.json");
  std::ifstream in(path);
  nlohmann::json j;
  try {
    j = parse_bounded_json(in);
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path.string() + " is not valid JSON (" + json_error_text(e) + "): download it again");
  }
  if (!j.is_object() || !j.contains("boundary_ratio") || j["boundary_ratio"].is_null()) return std::nullopt;
  const nlohmann::json& ratio = j["boundary_ratio"];
  if (!ratio.is_number() || !(ratio.get<double>() > 0.0 && ratio.get<double>() < 1.0)) {
    throw UserError(path.string() + ": \"boundary_ratio\" must be a number between 0 and 1 (Wan2.2-T2V-A14B's is "
                    "0.875), got " + ratio.dump());
  }
  return ratio.get<double>();
}

}  // namespace

WanFolder WanFolder::find(const fs::path& folder) {
  if (!fs::is_directory(folder)) {
    throw UserError("no model at '" + folder.string() + "': the folder does not exist");
  }
  refuse_expert_folder_itself(folder);
  WanFolder f;
  f.folder = folder;
  std::vector<fs::path> root_dits;
  std::vector<fs::path> root_vaes;
  // ComfyUI's files at the top, or in its own folders (split_files/ of Comfy-Org's repositories as
  // the Hugging Face CLI saves them; ComfyUI's models/): diffusion_models/, text_encoders/, vae/.
  for (const auto& dir : {folder, folder / "diffusion_models"}) {
    for (const auto& path : safetensors_in(dir)) {
      if (holds_tensor_ending(path, "patch_embedding.weight")) {
        root_dits.push_back(path);
      } else if (dir == folder && holds_wan_vae(path)) {
        root_vaes.push_back(path);
      }
    }
  }
  // Wan-AI's original 14B repository shards its DiT at the top, with an index. A single DiT file
  // beside it (a ComfyUI one, at the top or in diffusion_models/) is a second model, not a shard.
  if (fs::is_regular_file(folder / kShardIndex)) {
    const std::vector<fs::path> shards = shards_of(folder / kShardIndex);
    std::vector<fs::path> others;
    for (const auto& path : root_dits) {
      if (std::find(shards.begin(), shards.end(), path) == shards.end()) others.push_back(path);
    }
    if (!others.empty()) {
      throw UserError("'" + folder.string() + "' holds the sharded diffusion model of " + kShardIndex + " and " +
                      name_list(others) + ": keep one per folder");
    }
    root_dits = shards;
  }
  const fs::path transformer = folder / "transformer";
  const fs::path transformer_2 = folder / "transformer_2";
  const fs::path high_noise_dir = folder / "high_noise_model";
  const fs::path low_noise_dir = folder / "low_noise_model";
  const bool diffusers = fs::is_directory(transformer) || fs::is_directory(transformer_2);
  const bool expert_dirs = fs::is_directory(high_noise_dir) || fs::is_directory(low_noise_dir);
  if ((diffusers || expert_dirs) && !root_dits.empty()) {
    throw UserError("'" + folder.string() + "' mixes two layouts: a diffusion model at the top (" +
                    name_list(root_dits) + ") and " +
                    (diffusers ? "a Diffusers transformer/ folder" : "Wan-AI's high_noise_model/ and low_noise_model/") +
                    ". Keep one: move either into a folder of its own");
  }
  if (diffusers && expert_dirs) {
    throw UserError("'" + folder.string() + "' mixes two layouts: a Diffusers transformer/ folder and Wan-AI's "
                    "high_noise_model/ and low_noise_model/. Keep one: move either into a folder of its own");
  }
  // Which expert is missing from a pair, and where to get it.
  const auto missing_expert = [&](const std::string& present, const std::string& absent, const std::string& repo) {
    return UserError("'" + folder.string() + "' holds " + present + " without " + absent + ": Wan2.2-A14B needs both "
                     "experts. Download " + absent + " of " + repo);
  };
  if (diffusers) {
    f.layout = WanLayout::Diffusers;
    if (!fs::is_directory(transformer)) {
      throw missing_expert("transformer_2/ (the low-noise expert of Wan2.2-A14B)", "transformer/", kA14bDiffusersRepo);
    }
    f.dit_files = find_sharded_dit(transformer, "the Diffusers transformer/ folder",
                                   fs::is_directory(transformer_2) ? kA14bDiffusersRepo : kDiffusersRepo);
    f.dit_config = transformer / "config.json";
    if (fs::is_directory(transformer_2)) {
      f.low_noise_dit_files = find_sharded_dit(transformer_2, "the Diffusers transformer_2/ folder", kA14bDiffusersRepo);
      f.low_noise_dit_config = transformer_2 / "config.json";
      f.boundary = read_boundary_ratio(folder / "model_index.json");
    }
  } else if (expert_dirs) {
    f.layout = WanLayout::Original;
    if (!fs::is_directory(low_noise_dir)) throw missing_expert("high_noise_model/", "low_noise_model/", kA14bRepo);
    if (!fs::is_directory(high_noise_dir)) throw missing_expert("low_noise_model/", "high_noise_model/", kA14bRepo);
    f.dit_files = find_sharded_dit(high_noise_dir, "Wan-AI's high_noise_model/ folder", kA14bRepo);
    f.dit_config = high_noise_dir / "config.json";
    f.low_noise_dit_files = find_sharded_dit(low_noise_dir, "Wan-AI's low_noise_model/ folder", kA14bRepo);
    f.low_noise_dit_config = low_noise_dir / "config.json";
  } else if (std::any_of(root_dits.begin(), root_dits.end(), [](const fs::path& p) {
               return is_high_noise_name(p) || is_low_noise_name(p);
             })) {
    // ComfyUI's pair: wan2.2_t2v_high_noise_14B_fp16.safetensors and wan2.2_t2v_low_noise_14B_fp16.safetensors.
    std::vector<fs::path> high, low;
    for (const auto& path : root_dits) {
      if (is_high_noise_name(path) && is_low_noise_name(path)) {
        throw UserError("'" + path.string() + "' is named both high_noise and low_noise: name each of "
                        "Wan2.2-A14B's experts for its own (wan2.2_t2v_high_noise_14B_fp16.safetensors, "
                        "wan2.2_t2v_low_noise_14B_fp16.safetensors)");
      }
      if (is_high_noise_name(path)) high.push_back(path);
      if (is_low_noise_name(path)) low.push_back(path);
    }
    if (root_dits.size() == 1) {  // one expert alone
      const bool has_high = !high.empty();
      const char* present = has_high ? "high" : "low";
      const char* absent = has_high ? "low" : "high";
      throw missing_expert(root_dits[0].filename().string() + " (the " + present + "-noise expert of Wan2.2-A14B)",
                           std::string("its ") + absent + "-noise expert (wan2.2_t2v_" + absent +
                               "_noise_14B_fp16.safetensors)",
                           std::string(kA14bComfyRepo) + ", split_files/diffusion_models/");
    }
    if (high.size() != 1 || low.size() != 1 || root_dits.size() != 2) {
      throw UserError("'" + folder.string() + "' holds " + std::to_string(root_dits.size()) + " diffusion models (" +
                      name_list(root_dits) + "): keep one model per folder, or for Wan2.2-A14B its two experts, one "
                      "named *high_noise* and one *low_noise*");
    }
    f.layout = WanLayout::Original;
    f.dit_files = high;
    f.low_noise_dit_files = low;
    f.dit_config = f.low_noise_dit_config = folder / "config.json";
  } else if (root_dits.size() > 1 && !fs::is_regular_file(folder / kShardIndex)) {
    throw UserError("'" + folder.string() + "' holds " + std::to_string(root_dits.size()) +
                    " diffusion models (" + name_list(root_dits) + "): keep one per folder");
  } else if (!root_dits.empty()) {
    f.layout = WanLayout::Original;
    f.dit_files = root_dits;
    f.dit_config = folder / "config.json";
  } else {
    if (const auto pickles = pickles_in(folder); !pickles.empty()) {
      refuse_pickles(pickles, std::string("the safetensors files instead: wan2.1_t2v_1.3B_bf16.safetensors, "
                                          "umt5_xxl_fp16.safetensors and wan_2.1_vae.safetensors (") +
                                  kComfyRepo + ", split_files/), or the Diffusers repository " + kDiffusersRepo);
    }
    throw UserError("no model at '" + folder.string() + "': no model.json (built-in and random models) and no "
                    "Wan diffusion model: looked for a .safetensors holding patch_embedding.weight in " +
                    folder.string() + " and its diffusion_models/ (e.g. wan2.1_t2v_1.3B_bf16.safetensors from " +
                    kComfyRepo + ", split_files/diffusion_models/) and for " + transformer.string() +
                    "/ (the Diffusers layout of " + kDiffusersRepo + ")." +
                    entries_not_files({folder, folder / "diffusion_models"}, is_safetensors_name));
  }
  for (const auto* files : {&f.dit_files, &f.low_noise_dit_files}) {
    for (const auto& path : *files) {
      if (has_pickle_extension(path)) refuse_pickles({path}, "the .safetensors shards of the same repository");
    }
  }
  f.text_encoder_files = find_umt5_files(folder);
  f.tokenizer = folder;
  (void)Umt5Tokenizer::locate(f.tokenizer, f.text_encoder_files);  // a folder without one is incomplete
  f.vae_files = find_vaes(folder, root_vaes);
  f.vae_file = f.vae_files.front();
  return f;
}

bool holds_wan_diffusion_model(const fs::path& folder) {
  for (const char* dir : {"", "diffusion_models", "transformer", "transformer_2", "high_noise_model",
                          "low_noise_model"}) {
    for (const auto& path : safetensors_in(folder / dir)) {
      try {
        if (holds_tensor_ending(path, "patch_embedding.weight")) return true;
      } catch (const std::exception&) {
        // A download cut short still names the tensor in its header; a file that does not is no
        // evidence either way.
        if (damaged_header_names(path, "patch_embedding.weight")) return true;
      }
    }
  }
  return false;
}

ModelManifest read_wan_manifest(const fs::path& folder) {
  const WanFolder f = WanFolder::find(folder);
  // One DiT's variant from its headers; `where` names its file or shards for the messages.
  bool fp8 = false;
  const auto detect = [&fp8](const std::vector<fs::path>& paths, const fs::path& config, std::string& where) {
    std::vector<std::shared_ptr<SafetensorsFile>> files;
    for (const auto& path : paths) files.push_back(SafetensorsFile::open(path));
    WanWeights::refuse_layer_quantization(files);
    fp8 = fp8 || !WanWeights::fp8_scales(files).empty();
    where = paths.size() == 1 ? "'" + paths.front().string() + "'"
                              : "the shards in '" + paths.front().parent_path().string() + "'";
    return detect_wan_variant(wan_dit_shapes(files), read_wan_config_hints(config), where);
  };
  std::string where;
  WanVariant variant = detect(f.dit_files, f.dit_config, where);
  std::optional<LowNoiseExpert> low_noise_expert;
  if (!f.low_noise_dit_files.empty()) {
    std::string low_where;
    const WanVariant low = detect(f.low_noise_dit_files, f.low_noise_dit_config, low_where);
    variant = pair_wan_experts(variant, low, where, low_where);
    low_noise_expert = LowNoiseExpert{{}, f.boundary.value_or(kWan22T2vBoundary)};
  }
  // The DiT's latent space fixes the VAE (a folder may hold both versions'): chosen and checked
  // here, from the headers, before gigabytes are read.
  fs::path vae_file = f.vae_file;
  WanVaeConfig vae = WanVaeWeights::read_config(vae_file);
  for (const auto& path : f.vae_files) {
    if (vae.version == variant.vae_version) break;
    const WanVaeConfig other = WanVaeWeights::read_config(path);
    if (other.version == variant.vae_version) {
      vae_file = path;
      vae = other;
    }
  }
  const WanConfig& dit = variant.config;
  if (vae.version != variant.vae_version) {
    throw UserError("'" + vae_file.string() + "' is the " + wan_vae_version_name(vae.version) + " VAE (" +
                    std::to_string(vae.z_dim) + " latent channels), but " + variant.name + " works on " +
                    std::to_string(dit.in_dim) + "-channel latents and needs the " +
                    wan_vae_version_name(variant.vae_version) + " VAE: put " +
                    wan_vae_download(variant.vae_version) + " in the folder instead");
  }
  // Text-to-video samples in the VAE's latent space: the DiT's output is its next input and what
  // the VAE decodes. Checked here so that a head of another width fails now, not after sampling.
  if (dit.in_dim != vae.z_dim || dit.out_dim != vae.z_dim) {
    throw UserError(where + " (" + variant.name + ") takes " + std::to_string(dit.in_dim) +
                    "-channel latents and makes " + std::to_string(dit.out_dim) + "-channel ones, but '" +
                    vae_file.string() + "' (the " + wan_vae_version_name(vae.version) + " VAE) decodes " +
                    std::to_string(vae.z_dim) + "-channel latents: the diffusion model and the VAE belong to "
                    "different models. Use the diffusion model and the VAE of one release");
  }

  // The encoder's width from its headers: a text encoder of another model fails now, not after its
  // gigabytes have loaded.
  const Umt5Config text = Umt5Weights::read_config(open_umt5_files(f.text_encoder_files));
  if (text.dim != dit.text_dim) {
    throw UserError("the text encoder (" + name_list(f.text_encoder_files) + ") has width " +
                    std::to_string(text.dim) + " but " + where + " (" + variant.name + ") expects " +
                    std::to_string(dit.text_dim) + ": they belong to different models. Use umT5-xxl "
                    "(umt5_xxl_fp16.safetensors)");
  }

  auto relative = [&](const fs::path& p) { return p.lexically_relative(folder).string(); };
  ModelManifest m;
  m.folder = folder;
  m.name = variant.name;
  m.description = std::string("Wan weights, ") + wan_layout_name(f.layout) + " layout";  // the name says which model
  if (fp8) m.description += ", fp8 (linear weights kept in 8 bits)";

  m.dit = dit;
  m.latent = LatentKind::WanVae;
  m.text_encoder = TextEncoderKind::Umt5;
  for (const auto& p : f.dit_files) m.weight_files.push_back(relative(p));
  if (low_noise_expert) {
    for (const auto& p : f.low_noise_dit_files) low_noise_expert->weight_files.push_back(relative(p));
    m.description += ", two experts (the low-noise one below timestep " +
                      std::to_string(int(std::lround(low_noise_expert->boundary * 1000.0))) + ")";
    m.low_noise_expert = std::move(low_noise_expert);
  }
  for (const auto& p : f.text_encoder_files) m.text_encoder_files.push_back(relative(p));
  m.tokenizer = relative(f.tokenizer);
  m.vae_file = relative(vae_file);
  m.defaults = variant.defaults;
  m.max_pixels = variant.max_pixels;
  m.temporal_factor = vae.temporal_factor();  // 4 for both VAEs
  m.spatial_factor = vae.spatial_factor();    // 8 (Wan 2.1) or 16 (Wan 2.2)
  m.raw = m.to_json();
  return m;
}

}  // namespace svgear
