// JSON from user files is refused past kMaxJsonDepth levels of nesting, as a parse error, before a
// recursive copy or dump of it could overflow the stack.

#include "core/io/bounded_json.h"

#include <sstream>
#include <string>
#include <utility>

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

// nlohmann alone keeps the last of a repeated key: a hand-edited model.json's second "fps" would
// win without a word. Keys repeat freely in different objects.
TEST(BoundedJson, AKeyGivenTwiceInOneObjectIsRefused) {
  std::istringstream apart(R"({"a": {"fps": 8}, "b": {"fps": 16}, "fps": [{"fps": 1}, {"fps": 2}]})");
  EXPECT_EQ(parse_bounded_json(apart)["b"]["fps"], 16);
  for (const char* twice : {R"({"fps": 8, "steps": 4, "fps": 80})", R"([{"defaults": {"fps": 8, "fps": 80}}])"}) {
    std::istringstream in(twice);
    try {
      parse_bounded_json(in);
      ADD_FAILURE() << twice << " parsed";
    } catch (const nlohmann::json::exception& e) {
      EXPECT_EQ(json_error_text(e), "the key 'fps' is given twice in one object: keep the value you mean and remove the other");
    }
  }
}

// nlohmann's lexer ends the input at a NUL byte: a document with a NUL and garbage after it had
// parsed, and a binary file was "unexpected end of input". Either is refused, naming the byte.
TEST(BoundedJson, ANulByteIsRefusedWhereverItIs) {
  using namespace std::string_literals;
  for (const auto& [document, byte] : std::initializer_list<std::pair<std::string, int>>{
           {"{\"mode\": \"svgear\"}\0garbage {{{"s, 19}, {"{\"mode\": \"svgear\"}\0"s, 19}, {"\0\1\2"s, 1}}) {
    std::istringstream in(document);
    try {
      parse_bounded_json(in);
      ADD_FAILURE() << "parsed " << document.size() << " bytes";
    } catch (const nlohmann::json::exception& e) {
      EXPECT_EQ(json_error_text(e),
                "byte " + std::to_string(byte) +
                    " is a NUL: a JSON file is UTF-8 text (is this the right file, or one saved as UTF-16?)");
    }
  }
  std::istringstream clean("{\"mode\": \"svgear\"}\n");
  EXPECT_EQ(parse_bounded_json(clean)["mode"], "svgear");
}

// A file an editor saved as "Unicode" (UTF-16, with its byte-order mark) is named by its first byte,
// which no UTF-8 text has (nor a JPEG handed over by mistake); one with UTF-8's mark reads.
TEST(BoundedJson, AUtf16FileIsNamedByItsFirstByte) {
  using namespace std::string_literals;
  for (const auto& [document, byte] : std::initializer_list<std::pair<std::string, std::string>>{
           {"\xFF\xFE{\0}\0"s, "FF"}, {"\xFE\xFF\0{\0}"s, "FE"}, {"\xFF\xD8\xFF\xE0"s, "FF"}}) {
    std::istringstream in(document);
    try {
      parse_bounded_json(in);
      ADD_FAILURE() << "parsed a document starting with " << byte;
    } catch (const nlohmann::json::exception& e) {
      EXPECT_EQ(json_error_text(e), "the file starts with the byte " + byte +
                                        ", which no UTF-8 text does: a JSON file is UTF-8 text (was it saved as "
                                        "UTF-16, or is it no JSON file?)");
    }
  }
  std::istringstream utf8("\xEF\xBB\xBF{\"mode\": \"svgear\"}");
  EXPECT_EQ(parse_bounded_json(utf8)["mode"], "svgear");
}

// Errors read by users: nlohmann's "[json.exception…]" prefix dropped, and the file's bytes it quotes
// (ill-formed UTF-8, a terminal escape) shown as '?'.
TEST(BoundedJson, ErrorTextIsPlainPrintableWords) {
  const auto error_text = [](const std::string& document) {
    std::istringstream in(document);
    try {
      parse_bounded_json(in);
    } catch (const nlohmann::json::exception& e) {
      return json_error_text(e);
    }
    return std::string("parsed");
  };
  const std::string bad_utf8 = error_text("{\"fps\": \"\xff\x1b[2J\"}");
  EXPECT_EQ(bad_utf8.find("[json.exception"), std::string::npos) << bad_utf8;
  EXPECT_NE(bad_utf8.find("ill-formed UTF-8 byte; last read: '\"?'"), std::string::npos) << bad_utf8;
  EXPECT_EQ(error_text(nested_arrays(kMaxJsonDepth + 1)), "nested deeper than 64 levels");
  try {
    (void)nlohmann::json::array().at("steps");
  } catch (const nlohmann::json::exception& e) {
    EXPECT_EQ(json_error_text(e), "cannot use at() with array");
  }
  const std::string long_input = error_text("[" + std::string(500, '1') + "x");
  EXPECT_LE(long_input.size(), 200u);
  for (const char c : long_input + bad_utf8) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << int(c);
}

}  // namespace
}  // namespace svgear
