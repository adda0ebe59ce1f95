#include "tests/wan/tiny_wan_folder.h"

#include <fstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/decoder/wan_vae_weight_names.h"
#include "core/model/wan_random_weights.h"
#include "core/model/wan_weight_names.h"
#include "core/pipeline/model.h"
#include "core/user_error.h"
#include "core/text/umt5_weight_names.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/decoder/tiny_wan22_vae.h"
#include "tests/decoder/tiny_wan_vae.h"
#include "tests/model/tiny_wan.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"

namespace svgear::test {
namespace {

namespace fs = std::filesystem;
using Tensors = std::vector<std::pair<std::string, at::Tensor>>;

constexpr uint64_t kTi2vDitSeed = 48;
constexpr uint64_t kLowNoiseDitSeed = 14;

Tensors tiny_dit_tensors() {
  auto file = SafetensorsFile::open(testvector("wan/wan_dit_tiny.weights.safetensors"));
  Tensors out;
  for (const TensorEntry& entry : file->tensors()) out.emplace_back(entry.name, file->load(entry.name));
  return out;
}

Tensors tiny_low_noise_dit_tensors() { return wan_random_weights(tiny_wan_config(), kLowNoiseDitSeed).state_dict(); }

nlohmann::json tiny_wan_upstream_config() {
  std::ifstream config(testvector("wan/wan_dit_tiny.json"));
  return nlohmann::json::parse(config);
}

Tensors tiny_ti2v_dit_tensors() { return wan_random_weights(tiny_wan22_ti2v_config(), kTi2vDitSeed).state_dict(); }

// The tiny reference VAE (2.1) or the synthetic 2.2 VAE, under their original names.
Tensors vae_tensors(WanVaeVersion version) {
  if (version == WanVaeVersion::Wan22) return tiny_wan22_vae_tensors();
  auto file = SafetensorsFile::open(tiny_wan_vae_path());
  Tensors out;
  for (const TensorEntry& entry : file->tensors()) out.emplace_back(entry.name, file->load(entry.name));
  return out;
}

void write_json(const fs::path& path, const nlohmann::json& json) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << json.dump(2);
}

// Ids 3..: "▁", a-z, then whole words of the tests' prompts.
void write_tokenizer(const fs::path& dir) {
  fs::create_directories(dir);
  std::vector<std::pair<std::string, double>> pieces = {{"\xE2\x96\x81", -3.0}};
  for (char c = 'a'; c <= 'z'; ++c) pieces.emplace_back(std::string(1, c), -5.0);
  for (const char* word : {"a", "red", "cat", "walks", "on", "the", "grass"}) {
    pieces.emplace_back("\xE2\x96\x81" + std::string(word), -2.0);
  }
  write_tokenizer_json(dir, pieces);
}

// Writes `tensors` as <stem>-0000k-of-00002.safetensors (half each) and <index_name>.
void write_two_shards(const fs::path& dir, const std::string& stem, const std::string& index_name,
                      const Tensors& tensors) {
  fs::create_directories(dir);
  const size_t half = tensors.size() / 2;
  nlohmann::json weight_map = nlohmann::json::object();
  for (int shard = 0; shard < 2; ++shard) {
    const std::string name = stem + "-0000" + std::to_string(shard + 1) + "-of-00002.safetensors";
    const Tensors part(tensors.begin() + (shard ? half : 0), shard ? tensors.end() : tensors.begin() + half);
    for (const auto& [tensor, value] : part) weight_map[tensor] = name;
    write_safetensors(dir / name, part);
  }
  write_json(dir / index_name, {{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}});
}

Tensors umt5_in_hf_names(at::ScalarType dtype) {
  Tensors out;
  for (const auto& [name, tensor] : tiny_umt5_state_dict()) out.emplace_back(umt5_hf_name(name), tensor.to(dtype));
  return out;
}

// The ComfyUI layout: the DiT with ComfyUI's "model.diffusion_model." prefix, fp16 umT5, the VAE.
void write_original(const fs::path& dir, const std::string& dit_file, const Tensors& dit,
                    const nlohmann::json& config, WanVaeVersion vae) {
  fs::create_directories(dir);
  Tensors prefixed;
  for (const auto& [name, tensor] : dit) prefixed.emplace_back("model.diffusion_model." + name, tensor);
  write_safetensors(dir / dit_file, prefixed);
  write_json(dir / "config.json", config);
  write_safetensors(dir / "umt5_xxl_fp16.safetensors", umt5_in_hf_names(at::kHalf));
  write_safetensors(dir / (vae == WanVaeVersion::Wan22 ? "wan2.2_vae.safetensors" : "wan_2.1_vae.safetensors"),
                    vae_tensors(vae));
  write_tokenizer(dir / "google" / "umt5-xxl");
}

// A Diffusers transformer folder: two shards of Diffusers-named DiT tensors and its config.json.
void write_diffusers_transformer(const fs::path& dir, const Tensors& dit, const WanConfig& config) {
  Tensors renamed;
  for (const auto& [name, tensor] : dit) renamed.emplace_back(wan_diffusers_name(name), tensor);
  write_two_shards(dir, "diffusion_pytorch_model", "diffusion_pytorch_model.safetensors.index.json", renamed);
  write_json(dir / "config.json",
             {{"_class_name", "WanTransformer3DModel"}, {"attention_head_dim", config.head_dim()},
              {"num_attention_heads", config.num_heads}, {"in_channels", config.in_dim},
              {"out_channels", config.out_dim}, {"num_layers", config.num_layers}, {"ffn_dim", config.ffn_dim},
              {"freq_dim", config.freq_dim}, {"text_dim", config.text_dim}, {"patch_size", {1, 2, 2}},
              {"qk_norm", "rms_norm_across_heads"}, {"cross_attn_norm", true}, {"eps", 1e-6}});
}

// The Diffusers layout: the transformer, fp32 umT5 shards, the VAE's decoder half in
// AutoencoderKLWan names.
void write_diffusers(const fs::path& dir, const Tensors& dit, const WanConfig& config, WanVaeVersion vae) {
  write_diffusers_transformer(dir / "transformer", dit, config);
  write_two_shards(dir / "text_encoder", "model", "model.safetensors.index.json", umt5_in_hf_names(at::kFloat));
  write_tokenizer(dir / "tokenizer");
  Tensors vae_renamed;
  for (const auto& [original, tensor] : vae_tensors(vae)) {
    const std::string name = wan_vae_diffusers_name(original, vae, 2);
    if (!name.empty()) vae_renamed.emplace_back(name, tensor);
  }
  fs::create_directories(dir / "vae");
  write_safetensors(dir / "vae" / "diffusion_pytorch_model.safetensors", vae_renamed);
}

}  // namespace

std::string load_error(const fs::path& dir) {
  try {
    Model::load(dir, c10::Device(c10::kCPU));
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "loaded " << dir;
  return "";
}

fs::path write_tiny_wan_original(const fs::path& dir) {
  write_original(dir, "wan2.1_t2v_tiny_fp32.safetensors", tiny_dit_tensors(), tiny_wan_upstream_config(),
                 WanVaeVersion::Wan21);
  return dir;
}

fs::path write_tiny_wan_fp8_scaled(const fs::path& dir) {
  write_tiny_wan_original(dir);
  fs::remove(dir / "wan2.1_t2v_tiny_fp32.safetensors");
  write_safetensors(dir / "wan2.1_t2v_tiny_fp8_scaled.safetensors", tiny_wan_scaled_fp8("model.diffusion_model.").stored);
  return dir;
}

fs::path write_tiny_wan_a14b_comfy(const fs::path& dir) {
  write_original(dir, "wan2.2_t2v_high_noise_tiny_fp32.safetensors", tiny_dit_tensors(), tiny_wan_upstream_config(),
                 WanVaeVersion::Wan21);
  Tensors prefixed;
  for (const auto& [name, tensor] : tiny_low_noise_dit_tensors()) prefixed.emplace_back("model.diffusion_model." + name, tensor);
  write_safetensors(dir / "wan2.2_t2v_low_noise_tiny_fp32.safetensors", prefixed);
  return dir;
}

fs::path write_tiny_wan_a14b_wan_ai(const fs::path& dir) {
  // The parts beside the experts from a ComfyUI folder, whose DiT pair then moves into the folders.
  write_tiny_wan_a14b_comfy(dir);
  fs::remove(dir / "wan2.2_t2v_high_noise_tiny_fp32.safetensors");
  fs::remove(dir / "wan2.2_t2v_low_noise_tiny_fp32.safetensors");
  fs::remove(dir / "config.json");
  for (const auto& [folder, tensors] : {std::pair{"high_noise_model", tiny_dit_tensors()},
                                        std::pair{"low_noise_model", tiny_low_noise_dit_tensors()}}) {
    write_two_shards(dir / folder, "diffusion_pytorch_model", "diffusion_pytorch_model.safetensors.index.json", tensors);
    write_json(dir / folder / "config.json", tiny_wan_upstream_config());
  }
  return dir;
}

fs::path write_tiny_wan_a14b_diffusers(const fs::path& dir, std::optional<double> boundary_ratio) {
  write_diffusers(dir, tiny_dit_tensors(), tiny_wan_config(), WanVaeVersion::Wan21);
  write_diffusers_transformer(dir / "transformer_2", tiny_low_noise_dit_tensors(), tiny_wan_config());
  nlohmann::json index = {{"_class_name", "WanPipeline"}, {"transformer", {"diffusers", "WanTransformer3DModel"}},
                          {"transformer_2", {"diffusers", "WanTransformer3DModel"}}};
  if (boundary_ratio) index["boundary_ratio"] = *boundary_ratio;
  write_json(dir / "model_index.json", index);
  return dir;
}

fs::path write_tiny_wan_diffusers(const fs::path& dir) {
  write_diffusers(dir, tiny_dit_tensors(), tiny_wan_config(), WanVaeVersion::Wan21);
  return dir;
}

WanConfig tiny_wan22_ti2v_config() {
  WanConfig c = tiny_wan_config();
  c.in_dim = 48;
  c.out_dim = 48;
  return c;
}

fs::path write_tiny_wan22_ti2v_original(const fs::path& dir) {
  write_original(dir, "wan2.2_ti2v_tiny_fp32.safetensors", tiny_ti2v_dit_tensors(), tiny_wan22_ti2v_config().to_json(),
                 WanVaeVersion::Wan22);
  return dir;
}

fs::path write_tiny_wan22_ti2v_diffusers(const fs::path& dir) {
  write_diffusers(dir, tiny_ti2v_dit_tensors(), tiny_wan22_ti2v_config(), WanVaeVersion::Wan22);
  return dir;
}

}  // namespace svgear::test
