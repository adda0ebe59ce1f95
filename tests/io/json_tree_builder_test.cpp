// JsonTreeBuilder builds the tree nlohmann::json::parse builds, value for value and type for type,
// shows its checks each container's depth and each key, and throws nlohmann's errors as their own
// types.

#include "core/io/json_tree_builder.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace svgear {
namespace {

nlohmann::json built(const std::string& text, JsonTreeBuilder::OnOpen on_open = [](int) {},
                     JsonTreeBuilder::OnKey on_key = [](int, const std::string&, bool) {}) {
  JsonTreeBuilder builder(std::move(on_open), std::move(on_key));
  nlohmann::json::sax_parse(text, &builder);
  return builder.take();
}

TEST(JsonTreeBuilder, BuildsWhatNlohmannParses) {
  for (const std::string text :
       {"null", "true", "-0", "18446744073709551615", "-9223372036854775808", "1.5e300", "\"caf\\u00e9 \\ud83d\\ude00\"",
        "[]", "{}", R"([1, -1, 1.0, "x", [], {}, [[{"a": [null, false]}]]])",
        R"({"b": {"c": [1, 2, {"d": {}}]}, "a": "z", "e": [[], [[]]]})"}) {
    const nlohmann::json ours = built(text), theirs = nlohmann::json::parse(text);
    EXPECT_EQ(ours, theirs) << text;
    // dump tells 1.0 from 1; the types tell unsigned from signed.
    EXPECT_EQ(ours.dump(), theirs.dump()) << text;
    EXPECT_EQ(ours.type(), theirs.type()) << text;
  }
  // Many elements in one container (nlohmann's callback parse walked the container at each).
  std::string many = "[";
  for (int i = 0; i < 100000; ++i) many += i == 0 ? "{\"i\": 0}" : ", {\"i\": " + std::to_string(i) + "}";
  many += "]";
  const nlohmann::json array = built(many);
  ASSERT_EQ(array.size(), 100000u);
  EXPECT_EQ(array[99999]["i"], 99999);
}

TEST(JsonTreeBuilder, ShowsItsChecksEachDepthAndKey) {
  std::vector<int> opened;
  std::vector<std::pair<int, std::string>> keys;
  std::vector<bool> repeats;
  const nlohmann::json value = built(
      R"({"a": [{"b": 1}, []], "c": {"a": 2}, "a": 3})", [&](int depth) { opened.push_back(depth); },
      [&](int depth, const std::string& key, bool repeated) {
        keys.emplace_back(depth, key);
        repeats.push_back(repeated);
      });
  EXPECT_EQ(opened, (std::vector<int>{0, 1, 2, 2, 1}));
  EXPECT_EQ(keys, (std::vector<std::pair<int, std::string>>{{1, "a"}, {3, "b"}, {1, "c"}, {2, "a"}, {1, "a"}}));
  EXPECT_EQ(repeats, (std::vector<bool>{false, false, false, false, true}));
  EXPECT_EQ(value["a"], 3) << "a repeat the check lets through is kept last, as nlohmann keeps it";
  // A check's exception ends the parse.
  EXPECT_THROW(built("[[[]]]", [](int depth) {
                 if (depth > 1) throw std::runtime_error("too deep");
               }),
               std::runtime_error);
}

TEST(JsonTreeBuilder, ThrowsNlohmannsErrorsAsTheirOwnTypes) {
  EXPECT_THROW(built("{\"a\": }"), nlohmann::json::parse_error);
  EXPECT_THROW(built(""), nlohmann::json::parse_error);
  EXPECT_THROW(built("[1e999]"), nlohmann::json::out_of_range);
}

}  // namespace
}  // namespace svgear
