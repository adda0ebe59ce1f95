#include "ui/studio_request.h"

#include "core/attention/attention_preset.h"
#include "core/io/bounded_json.h"
#include "core/user_error.h"

namespace svgear {

StudioRequest studio_request_from_record(const nlohmann::json& record) {
  try {
    const nlohmann::json& request = record.at("request");
    StudioRequest r;
    r.model_folder = record.at("model").value("folder", "");
    r.prompt = request.at("prompt").get<std::string>();
    r.negative_prompt = request.value("negative_prompt", "");
    // A request records the negative prompt it ran with, the model's default included; that one
    // comes back as "the model's default" (an empty box), so it does not follow the user to a model
    // whose words differ (Wan's long default is refused by the built-in models' grammar). A model
    // whose default has changed since then runs with its new one. A record without it keeps the text.
    const nlohmann::json* defaults = &record.at("model");
    for (const char* key : {"manifest", "defaults", "negative_prompt"}) {
      defaults = defaults->is_object() && defaults->contains(key) ? &defaults->at(key) : nullptr;
      if (!defaults) break;
    }
    if (defaults && defaults->is_string() && r.negative_prompt == defaults->get<std::string>()) {
      r.negative_prompt.clear();
    }
    r.seed = request.at("seed").get<uint64_t>();
    r.width = request.at("width").get<int>();
    r.height = request.at("height").get<int>();
    r.frames = request.at("frames").get<int>();
    r.steps = request.at("steps").get<int>();
    r.guidance = request.at("guidance").get<double>();
    if (request.contains("low_noise_guidance")) r.low_noise_guidance = request.at("low_noise_guidance").get<double>();
    r.shift = request.at("shift").get<double>();
    r.noise_on_device = request.value("noise", "cpu") == "device";
    r.attention = attention_config_from_json(request.value("attention", nlohmann::json::object()), AttentionConfig{});
    if (const auto tokens = record.find("attention_tokens"); tokens != record.end() && tokens->is_number_integer()) {
      r.attention_tokens = tokens->get<int64_t>();
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw UserError(std::string("the run record does not hold a complete request: ") + json_error_text(e));
  }
}

AttentionMode compared_sparse_mode(const StudioRequest& request) {
  return request.attention.mode == AttentionMode::Dense ? AttentionMode::SvgEar : request.attention.mode;
}

}  // namespace svgear
