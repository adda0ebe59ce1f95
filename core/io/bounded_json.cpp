#include "core/io/bounded_json.h"

#include <string>

namespace svgear {

nlohmann::json parse_bounded_json(std::istream& in) {
  const nlohmann::json::parser_callback_t limit = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    const bool opens = event == nlohmann::json::parse_event_t::object_start ||
                       event == nlohmann::json::parse_event_t::array_start;
    if (opens && depth >= kMaxJsonDepth) {
      throw nlohmann::json::other_error::create(
          600, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", nullptr);
    }
    return true;
  };
  return nlohmann::json::parse(in, limit);
}

}  // namespace svgear
