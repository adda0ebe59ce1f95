#pragma once
// Attention presets: an AttentionConfig by name ("quality", "balanced", "fast") or from a JSON
// file, and back to JSON. A preset file holds any subset of AttentionConfig's fields under their
// own names (the keys of a run record's "attention" object), e.g. {"mode": "svgear", "top_p": 0.85};
// fields it leaves out keep their values from the config it is applied to.
//
// The named presets trade quality for speed along the two knobs that matter most, the top-p
// budget and the dense warm-up (../shared/reference/anchors.md §4: SVG1 used 25% dense steps,
// SVG2's scripts 20%); clusters, guaranteed ratio and dense layers keep the spec's defaults:
//
//   preset     mode    top_p  dense_warmup_steps
//   quality    svgear  0.95   0.25
//   balanced   svgear  0.90   0.20   (the spec's defaults)
//   fast       svgear  0.80   0.15

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/attention/attention_config.h"

namespace svgear {

// The named preset. Throws UserError listing the names for an unknown one.
AttentionConfig named_attention_preset(std::string_view name);

// A name from named_attention_preset, or a path ending in .json read with attention_config_from_json
// on top of `base` (the command's defaults: a file without "mode" keeps the command's mode). Throws
// UserError for an unknown name, an unreadable file, a bad field, or a file that sets fields but no
// mode where `base` is dense (which uses none of them). `changed`, when given, gets the file's fields
// besides "mode" whose values differ from AttentionConfig's defaults (none for a named preset):
// the ones a run that uses them not would silently drop.
AttentionConfig load_attention_preset(const std::string& name_or_file, const AttentionConfig& base,
                                      std::vector<std::string>* changed = nullptr);

// Applies the fields present in `j` on top of `base`. Throws UserError for a key AttentionConfig
// does not have (listing the known keys), a value of the wrong type, or a value out of range.
AttentionConfig attention_config_from_json(const nlohmann::json& j, const AttentionConfig& base);

// Every field, under the names attention_config_from_json reads.
nlohmann::json attention_config_to_json(const AttentionConfig& config);

inline constexpr int kMaxKmeansIterations = 1000;

// Throws UserError naming the first field out of range (clusters >= 1, fractions in [0, 1],
// top_p in (0, 1], gamma in (0, 100], k-means iterations from 1 to kMaxKmeansIterations).
void check_attention_config(const AttentionConfig& config);

}  // namespace svgear
