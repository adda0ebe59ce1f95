#include "app/results_file.h"

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/io/bounded_json.h"
#include "core/user_error.h"

namespace svgear {

void check_results_file(const std::filesystem::path& file) {
  check_output_file(file);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return;
  // Results are kilobytes; a larger file is not one, and is not read whole.
  constexpr uintmax_t kLargestResults = uintmax_t(16) << 20;
  nlohmann::json results;
  if (std::filesystem::is_regular_file(file, ec) && std::filesystem::file_size(file, ec) <= kLargestResults && !ec) {
    std::ifstream in(file);
    try {
      results = parse_bounded_json(in);
    } catch (const nlohmann::json::exception&) {
    }
  }
  const auto command = results.is_object() ? results.find("command") : results.end();
  if (!results.is_object() || command == results.end() || !command->is_string() ||
      command->get<std::string>().rfind("svgear ", 0) != 0) {
    throw UserError("'" + file.string() + "' exists and is not the results of an svgear command: --json would " +
                    "replace it. Choose another name, or delete it first.");
  }
}

}  // namespace svgear
