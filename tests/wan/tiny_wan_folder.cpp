#include "tests/wan/tiny_wan_folder.h"

#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/decoder/wan_vae_weight_names.h"
#include "core/model/wan_weight_names.h"
#include "core/text/umt5_weight_names.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/decoder/tiny_wan_vae.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"

namespace svgear::test {
namespace {

namespace fs = std::filesystem;
using Tensors = std::vector<std::pair<std::string, at::Tensor>>;

Tensors tiny_dit_tensors() {
  auto file = SafetensorsFile::open(testvector("wan/wan_dit_tiny.weights.safetensors"));
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

}  // namespace

fs::path write_tiny_wan_original(const fs::path& dir) {
  fs::create_directories(dir);
  Tensors dit;
  for (const auto& [name, tensor] : tiny_dit_tensors()) dit.emplace_back("model.diffusion_model." + name, tensor);
  write_safetensors(dir / "wan2.1_t2v_tiny_fp32.safetensors", dit);
  fs::copy_file(testvector("wan/wan_dit_tiny.json"), dir / "config.json");
  write_safetensors(dir / "umt5_xxl_fp16.safetensors", umt5_in_hf_names(at::kHalf));
  fs::copy_file(tiny_wan_vae_path(), dir / "wan_2.1_vae.safetensors");
  write_tokenizer(dir / "google" / "umt5-xxl");
  return dir;
}

fs::path write_tiny_wan_diffusers(const fs::path& dir) {
  Tensors dit;
  for (const auto& [name, tensor] : tiny_dit_tensors()) dit.emplace_back(wan_diffusers_name(name), tensor);
  write_two_shards(dir / "transformer", "diffusion_pytorch_model", "diffusion_pytorch_model.safetensors.index.json", dit);
  write_json(dir / "transformer" / "config.json",
             {{"_class_name", "WanTransformer3DModel"}, {"attention_head_dim", 64}, {"num_attention_heads", 2},
              {"in_channels", 16}, {"out_channels", 16}, {"num_layers", 2}, {"ffn_dim", 256},
              {"freq_dim", 256}, {"text_dim", 64}, {"patch_size", {1, 2, 2}},
              {"qk_norm", "rms_norm_across_heads"}, {"cross_attn_norm", true}, {"eps", 1e-6}});
  write_two_shards(dir / "text_encoder", "model", "model.safetensors.index.json", umt5_in_hf_names(at::kFloat));
  write_tokenizer(dir / "tokenizer");
  Tensors vae;
  auto vae_file = SafetensorsFile::open(tiny_wan_vae_path());
  for (const TensorEntry& entry : vae_file->tensors()) {
    const std::string name = wan_vae_diffusers_name(entry.name, WanVaeVersion::Wan21, 2);
    if (!name.empty()) vae.emplace_back(name, vae_file->load(entry.name));
  }
  fs::create_directories(dir / "vae");
  write_safetensors(dir / "vae" / "diffusion_pytorch_model.safetensors", vae);
  return dir;
}

}  // namespace svgear::test
