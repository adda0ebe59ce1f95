#pragma once
// Run record: the JSON sidecar written next to every video — the resolved request, the model, the
// attention settings, timings, software versions and the device — enough to reproduce the video
// and to compare runs.

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/pipeline/generator.h"

namespace svgear {

nlohmann::json make_run_record(const GenerationResult& result, const Model& model);

// "<video path without extension>.json" (for a PNG folder "<folder>.json").
std::filesystem::path run_record_path(const std::filesystem::path& video_path);

void write_run_record(const std::filesystem::path& path, const nlohmann::json& record);  // atomic

}  // namespace svgear
