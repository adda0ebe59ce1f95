#include "core/attention/attention_preset.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <type_traits>

#include "core/io/bounded_json.h"
#include "core/text/nearest_words.h"
#include "core/user_error.h"

namespace svgear {
namespace {

const std::vector<std::string> kKnownKeys = {
    "mode",  "q_clusters",        "k_clusters",         "top_p",        "min_kc_ratio",    "guaranteed_ratio",
    "gamma", "kmeans_init_iters", "kmeans_step_iters", "dense_warmup_steps", "dense_layers", "kmeans_in_warmup"};
const std::vector<std::string> kPresetNames = {"quality", "balanced", "fast"};

void require(bool ok, const std::string& message) {
  if (!ok) throw UserError(message);
}

template <typename T>
void read_field(const nlohmann::json& value, const std::string& key, T& field) {
  static_assert(std::is_same_v<T, int> || std::is_same_v<T, double>);
  const bool ok = std::is_integral_v<T> ? is_int_number(value) : value.is_number();
  const std::string expected = std::is_integral_v<T> ? whole_number_expected(value) : std::string("a number");
  require(ok, std::string("attention field '") + key + "' must be " + expected + ", got " + value.dump());
  field = value.get<T>();
}

}  // namespace

AttentionConfig named_attention_preset(std::string_view name) {
  AttentionConfig config;
  config.mode = AttentionMode::SvgEar;
  if (name == "quality") {
    config.top_p = 0.95;
    config.dense_warmup_steps = 0.25;
  } else if (name == "balanced") {
    config.top_p = 0.9;
    config.dense_warmup_steps = 0.2;
  } else if (name == "fast") {
    config.top_p = 0.8;
    config.dense_warmup_steps = 0.15;
  } else {
    throw UserError("unknown attention preset '" + std::string(name) + "' (" + typo_hint(name, kPresetNames) +
                    "choose " + alternatives(kPresetNames, "", "") + ", or give a .json file)");
  }
  return config;
}

AttentionConfig load_attention_preset(const std::string& name_or_file, const AttentionConfig& base,
                                      std::vector<std::string>* changed) {
  if (changed) changed->clear();
  const std::filesystem::path path(name_or_file);
  if (path.extension() != ".json") return named_attention_preset(name_or_file);
  require_regular_file(path, "an attention preset");
  std::ifstream file(path);
  require(file.good(), "cannot read the attention preset file " + path.string() + ": " + std::strerror(errno));
  nlohmann::json j;
  try {
    j = parse_bounded_json(file);
  } catch (const nlohmann::json::exception& e) {
    throw UserError("attention preset " + path.string() + " is not valid JSON: " + json_error_text(e));
  }
  AttentionConfig config;
  try {
    config = attention_config_from_json(j, base);
  } catch (const UserError& e) {
    throw UserError(path.string() + ": " + e.what());
  }
  // Every other field is a sparse mode's: a file without "mode" applied to a dense run (the
  // command's default) would have set them and run dense, its record showing them as if applied.
  if (!j.contains("mode") && base.mode == AttentionMode::Dense && !j.empty()) {
    std::string keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys += (keys.empty() ? "" : ", ") + it.key();
    throw UserError(path.string() + " sets " + keys + " but no \"mode\", and the run it applies to is dense, which " +
                    "uses none of them: add \"mode\": \"svgear\" (or \"svg2\") to the file, give --attention svgear, "
                    "or drop the preset");
  }
  if (changed) {
    const nlohmann::json defaults = attention_config_to_json(AttentionConfig{});
    const nlohmann::json read = attention_config_to_json(config);
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() != "mode" && read.at(it.key()) != defaults.at(it.key())) changed->push_back(it.key());
    }
  }
  return config;
}

AttentionConfig attention_config_from_json(const nlohmann::json& j, const AttentionConfig& base) {
  require(j.is_object(), "an attention preset must be a JSON object like {\"top_p\": 0.9}");
  AttentionConfig c = base;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& value = it.value();
    if (key == "mode") {
      require(value.is_string(), "attention field 'mode' must be a string (dense, svg2 or svgear)");
      c.mode = parse_attention_mode(value.get<std::string>());
    } else if (key == "q_clusters") {
      read_field(value, key, c.q_clusters);
    } else if (key == "k_clusters") {
      read_field(value, key, c.k_clusters);
    } else if (key == "top_p") {
      read_field(value, key, c.top_p);
    } else if (key == "min_kc_ratio") {
      read_field(value, key, c.min_kc_ratio);
    } else if (key == "guaranteed_ratio") {
      read_field(value, key, c.guaranteed_ratio);
    } else if (key == "gamma") {
      read_field(value, key, c.gamma);
    } else if (key == "kmeans_init_iters") {
      read_field(value, key, c.kmeans_init_iters);
    } else if (key == "kmeans_step_iters") {
      read_field(value, key, c.kmeans_step_iters);
    } else if (key == "dense_warmup_steps") {
      read_field(value, key, c.dense_warmup_steps);
    } else if (key == "dense_layers") {
      read_field(value, key, c.dense_layers);
    } else if (key == "kmeans_in_warmup") {
      require(value.is_boolean(), "attention field 'kmeans_in_warmup' must be true or false, got " + value.dump());
      c.kmeans_in_warmup = value.get<bool>();
    } else {
      std::string known_keys;
      for (const std::string& k : kKnownKeys) known_keys += (known_keys.empty() ? "" : ", ") + k;
      throw UserError("unknown attention field '" + key + "' (" + typo_hint(key, kKnownKeys) +
                      "known: " + known_keys + ")");
    }
  }
  check_attention_config(c);
  return c;
}

nlohmann::json attention_config_to_json(const AttentionConfig& c) {
  return {{"mode", attention_mode_name(c.mode)},
          {"q_clusters", c.q_clusters},
          {"k_clusters", c.k_clusters},
          {"top_p", c.top_p},
          {"min_kc_ratio", c.min_kc_ratio},
          {"guaranteed_ratio", c.guaranteed_ratio},
          {"gamma", c.gamma},
          {"kmeans_init_iters", c.kmeans_init_iters},
          {"kmeans_step_iters", c.kmeans_step_iters},
          {"dense_warmup_steps", c.dense_warmup_steps},
          {"dense_layers", c.dense_layers},
          {"kmeans_in_warmup", c.kmeans_in_warmup}};
}

void check_attention_config(const AttentionConfig& c) {
  const auto fraction = [](double x) { return x >= 0.0 && x <= 1.0; };
  // Each field by its preset-file name, and where the CLI has one, by its flag (the words a user typed).
  require(c.q_clusters >= 0, "q_clusters (--q-clusters) must be at least 1, or 0 for the frame size's default (got " +
                                std::to_string(c.q_clusters) + ")");
  require(c.k_clusters >= 1, "k_clusters (--k-clusters) must be at least 1 (got " + std::to_string(c.k_clusters) + ")");
  require(c.top_p > 0.0 && c.top_p <= 1.0, "top_p (--top-p) must be in (0, 1] (got " + shown_number(c.top_p) + ")");
  require(fraction(c.min_kc_ratio), "min_kc_ratio must be in [0, 1] (got " + shown_number(c.min_kc_ratio) + ")");
  // r ≤ 0.5: SVG-EAR's budget force-keeps 2r·Kc clusters (the backends and block_routing refuse more).
  require(c.guaranteed_ratio >= 0.0 && c.guaranteed_ratio <= 0.5,
          "guaranteed_ratio (--guaranteed-ratio) must be in [0, 0.5] (got " + shown_number(c.guaranteed_ratio) + ")");
  // Upper bounds far past any useful value (the spec's 1, 50 and 2), below what would make a call
  // run for hours: on a GPU k-means queues its iterations at once and sees no cancel until they
  // end, so a preset's 2^31 iterations could only be stopped by killing the process.
  require(c.gamma > 0.0 && c.gamma <= 100.0, "gamma must be in (0, 100] (got " + shown_number(c.gamma) + ")");
  require(c.kmeans_init_iters >= 1 && c.kmeans_init_iters <= kMaxKmeansIterations,
          "kmeans_init_iters must be between 1 and " + std::to_string(kMaxKmeansIterations) + " (got " +
              std::to_string(c.kmeans_init_iters) + ")");
  require(c.kmeans_step_iters >= 1 && c.kmeans_step_iters <= kMaxKmeansIterations,
          "kmeans_step_iters must be between 1 and " + std::to_string(kMaxKmeansIterations) + " (got " +
              std::to_string(c.kmeans_step_iters) + ")");
  require(fraction(c.dense_warmup_steps), "dense_warmup_steps (--dense-steps, a fraction of the steps) must be in [0, 1] (got " +
                                              shown_number(c.dense_warmup_steps) + ")");
  require(fraction(c.dense_layers), "dense_layers (--dense-layers, a fraction of the layers) must be in [0, 1] (got " +
                                        shown_number(c.dense_layers) + ")");
}

}  // namespace svgear
