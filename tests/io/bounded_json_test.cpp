// JSON from user files is refused past kMaxJsonDepth levels of nesting, as a parse error, before a
// recursive copy or dump of it could overflow the stack.

#include "core/io/bounded_json.h"

#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace svgear {
namespace {

std::string nested_arrays(int depth) { return std::string(size_t(depth), '[') + std::string(size_t(depth), ']'); }

TEST(BoundedJson, NestingPastTheLimitIsAParseError) {
  std::istringstream at_limit(nested_arrays(kMaxJsonDepth));
  EXPECT_NO_THROW(parse_bounded_json(at_limit));
  std::istringstream objects(R"({"a": {"b": [1, {"c": null}]}, "d": "[[[["})");
  EXPECT_EQ(parse_bounded_json(objects)["a"]["b"][1]["c"], nullptr);
  for (const int depth : {kMaxJsonDepth + 1, 1000000}) {
    std::istringstream deep(nested_arrays(depth));
    try {
      parse_bounded_json(deep);
      ADD_FAILURE() << depth << " levels parsed";
    } catch (const nlohmann::json::exception& e) {
      EXPECT_NE(std::string(e.what()).find("nested deeper than 64 levels"), std::string::npos) << e.what();
    }
  }
  std::istringstream broken("{ not json");
  EXPECT_THROW(parse_bounded_json(broken), nlohmann::json::exception);
}

}  // namespace
}  // namespace svgear
