#include "core/model/wan_config.h"

#include <cstdint>
#include <cstdio>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/user_error.h"

namespace svgear {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw UserError("Wan config: " + what);
}

const nlohmann::json& required(const nlohmann::json& json, const char* key) {
  auto it = json.find(key);
  if (it == json.end()) fail(std::string("missing field '") + key + "'");
  return *it;
}

int positive_int(const nlohmann::json& value, const char* key) {
  if (!value.is_number_integer() || value.get<int64_t>() <= 0 || value.get<int64_t>() > (1 << 30)) {
    fail(std::string("field '") + key + "' must be a whole number from 1 to " + std::to_string(1 << 30) + ", got " +
         value.dump());
  }
  return value.get<int>();
}

int required_int(const nlohmann::json& json, const char* key) {
  return positive_int(required(json, key), key);
}

bool optional_bool(const nlohmann::json& json, const char* key, bool fallback) {
  auto it = json.find(key);
  if (it == json.end()) return fallback;
  if (!it->is_boolean()) {
    fail(std::string("field '") + key + "' must be true or false, got " + it->dump());
  }
  return it->get<bool>();
}

}  // namespace

WanConfig WanConfig::from_json(const nlohmann::json& json) {
  if (!json.is_object()) fail("expected a JSON object, got " + std::string(json.type_name()));
  WanConfig c;

  const nlohmann::json& model_type = required(json, "model_type");
  if (!model_type.is_string()) {
    fail("field 'model_type' must be a string, got " + model_type.dump());
  }
  c.model_type = model_type.get<std::string>();
  if (c.model_type != "t2v") fail("model_type '" + c.model_type + "' is not supported (only t2v)");

  if (auto it = json.find("patch_size"); it != json.end()) {
    if (!it->is_array() || it->size() != 3) {
      fail("field 'patch_size' must be [frames, height, width], got " + it->dump());
    }
    for (int i = 0; i < 3; ++i) {
      c.patch_size[i] = positive_int((*it)[i], "patch_size");
      if (c.patch_size[i] > kLargestPatch) {
        fail("field 'patch_size' must hold extents of at most " + std::to_string(kLargestPatch) + ", got " + it->dump());
      }
    }
  }
  c.text_len = required_int(json, "text_len");
  c.in_dim = required_int(json, "in_dim");
  c.dim = required_int(json, "dim");
  c.ffn_dim = required_int(json, "ffn_dim");
  c.freq_dim = required_int(json, "freq_dim");
  if (auto it = json.find("text_dim"); it != json.end()) c.text_dim = positive_int(*it, "text_dim");
  c.out_dim = required_int(json, "out_dim");
  c.num_heads = required_int(json, "num_heads");
  c.num_layers = required_int(json, "num_layers");
  if (c.num_layers > kMaxWanLayers) {
    fail("num_layers " + std::to_string(c.num_layers) + " is more than a Wan DiT's (at most " +
         std::to_string(kMaxWanLayers) + ")");
  }
  c.qk_norm = optional_bool(json, "qk_norm", c.qk_norm);
  c.cross_attn_norm = optional_bool(json, "cross_attn_norm", c.cross_attn_norm);

  const nlohmann::json& eps = required(json, "eps");
  if (!eps.is_number() || !(eps.get<double>() > 0.0)) {
    fail("field 'eps' must be a positive number, got " + eps.dump());
  }
  c.eps = eps.get<double>();

  if (auto it = json.find("window_size"); it != json.end()) {
    if (*it != nlohmann::json::array({-1, -1})) {
      fail("window_size " + it->dump() + " is not supported (only global attention, [-1, -1])");
    }
  }
  if (c.dim % c.num_heads != 0) {
    fail("dim " + std::to_string(c.dim) + " is not a multiple of num_heads " +
         std::to_string(c.num_heads));
  }
  // RoPE rotates pairs of channels.
  if (c.head_dim() % 2 != 0) {
    fail("head dim (dim / num_heads = " + std::to_string(c.head_dim()) + ") must be even");
  }
  if (c.freq_dim % 2 != 0) fail("freq_dim " + std::to_string(c.freq_dim) + " must be even");
  // Each field alone is bounded, but a product of two (time_projection is [6·dim, dim]) can pass
  // int64 and break the shape arithmetic before any file is compared with the config. No weight
  // holds 2^40 elements (4 TiB of float32; Wan 14B's largest has 1.4e8).
  const double patch = double(c.patch_size[0]) * c.patch_size[1] * c.patch_size[2];
  const std::pair<const char*, double> weights[] = {
      {"time_projection [6·dim, dim]", 6.0 * c.dim * c.dim},
      {"ffn [ffn_dim, dim]", double(c.ffn_dim) * c.dim},
      {"text_embedding [dim, text_dim]", double(c.dim) * c.text_dim},
      {"time_embedding [dim, freq_dim]", double(c.dim) * c.freq_dim},
      {"patch_embedding [dim, in_dim, patch]", double(c.dim) * c.in_dim * patch},
      {"head [out_dim · patch, dim]", double(c.out_dim) * patch * c.dim}};
  for (const auto& [name, elements] : weights) {
    if (elements > double(int64_t(1) << 40)) {
      char count[32];
      std::snprintf(count, sizeof count, "%.3g", elements);
      fail(std::string("the weight ") + name + " would hold " + count +
           " elements, past any checkpoint (at most 2^40): are dim, ffn_dim and the others those of the model?");
    }
  }
  return c;
}

nlohmann::json WanConfig::to_json() const {
  return {
      {"model_type", model_type},
      {"patch_size", patch_size},
      {"text_len", text_len},
      {"in_dim", in_dim},
      {"dim", dim},
      {"ffn_dim", ffn_dim},
      {"freq_dim", freq_dim},
      {"text_dim", text_dim},
      {"out_dim", out_dim},
      {"num_heads", num_heads},
      {"num_layers", num_layers},
      {"window_size", {-1, -1}},
      {"qk_norm", qk_norm},
      {"cross_attn_norm", cross_attn_norm},
      {"eps", eps},
  };
}

}  // namespace svgear
