#include "app/results_file.h"

#include "core/io/atomic_file.h"
#include "core/io/bounded_json.h"
#include "core/pipeline/run_record.h"
#include "core/user_error.h"
#include "svgear/build_config.h"

namespace svgear {

void check_results_file(const std::filesystem::path& file) {
  check_output_file(file);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return;
  const nlohmann::json results = read_json_if_small(file, uintmax_t(16) << 20);  // results are kilobytes
  const auto command = results.is_object() ? results.find("command") : results.end();
  if (!results.is_object() || command == results.end() || !command->is_string() ||
      command->get<std::string>().rfind("svgear ", 0) != 0) {
    // A run record or a compare report is ours too, but not a results file: name what --json keeps.
    throw UserError("'" + file.string() + "' exists and is not a results file (what `svgear bench` and `svgear " +
                    "eval` write with --json): --json would replace it. Choose another name, or delete it first.");
  }
}

void write_results_file(const std::filesystem::path& file, nlohmann::json results, const std::string& command) {
  results["command"] = command;
  results["svgear_version"] = SVGEAR_VERSION;
  results["created"] = utc_now();
  write_json_atomically(file, results);
}

}  // namespace svgear
