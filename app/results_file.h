#pragma once
// The JSON a command writes with --json (bench, eval): it goes where check_output_file allows, and
// replaces an existing file only when that file is the results of an earlier svgear command. A
// model's model.json, an attention preset or a run record named by mistake would be lost, long
// after the work began, to a file of figures.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace svgear {

// Throws UserError when `file` cannot take results: check_output_file's reasons, or an existing
// file that is not a JSON object with a "command" naming an svgear command. Run before the work.
void check_results_file(const std::filesystem::path& file);

// Writes `results` to `file` atomically, with what makes them comparable later: the `command`
// ("svgear bench attention"), the svgear version and the time, in UTC.
void write_results_file(const std::filesystem::path& file, nlohmann::json results, const std::string& command);

}  // namespace svgear
