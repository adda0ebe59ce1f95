#pragma once
// Run record: the JSON sidecar written next to every video — the resolved request, the model, the
// attention settings, timings, software versions and the device — enough to reproduce the video
// and to compare runs.

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/pipeline/generator.h"

namespace svgear {

nlohmann::json make_run_record(const GenerationResult& result, const Model& model);

// "<video path without extension>.json"; for a PNG folder (a path ending in '/') "<folder>.json",
// its whole name kept ("run.v2/" → "run.v2.json").
std::filesystem::path run_record_path(const std::filesystem::path& video_path);

void write_run_record(const std::filesystem::path& path, const nlohmann::json& record);  // atomic

// Throws UserError when `path` cannot take a run record: a place check_output_file refuses, or an
// existing file that is not a run record (a model's model.json, an attention preset or any JSON a
// user keeps beside the output would be replaced). Run before the work.
void check_run_record_path(const std::filesystem::path& path);

}  // namespace svgear
