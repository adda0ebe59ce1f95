// Differential fuzzing of JsonCursor (the routing traces' reader) against nlohmann's stream parser
// with the same nesting bound: every input accepted by one is accepted by the other (and by
// skip_value), as the same value of the same types, and every input refused by one is refused by
// the others. Any difference traps, so libFuzzer keeps the input.

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/bounded_json.h"
#include "core/io/json_cursor.h"

namespace {

bool same(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [key, value] : a.items()) {
      const auto other = b.find(key);
      if (other == b.end() || !same(value, *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!same(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;  // JSON text holds no NaN
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json expected, read;
  bool nlohmann_reads = true, cursor_reads = true;
  try {
    std::istringstream in(text);
    expected = svgear::parse_bounded_json(in);
  } catch (const nlohmann::json::exception&) {
    nlohmann_reads = false;
  }
  try {
    std::istringstream in(text);
    svgear::JsonCursor cursor(in);
    read = cursor.read_value(0);
    cursor.expect_end();
  } catch (const nlohmann::json::exception&) {
    cursor_reads = false;
  }
  bool cursor_skips = true;
  try {
    std::istringstream in(text);
    svgear::JsonCursor cursor(in);
    cursor.skip_value(0);
    cursor.expect_end();
  } catch (const nlohmann::json::exception&) {
    cursor_skips = false;
  }
  if (nlohmann_reads != cursor_reads || cursor_skips != cursor_reads) __builtin_trap();
  if (nlohmann_reads && !same(expected, read)) __builtin_trap();
  return 0;
}
