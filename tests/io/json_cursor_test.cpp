// JsonCursor reads what nlohmann reads, the same values, across its buffer's refills, and refuses
// what nlohmann refuses, as a parse error naming the byte.

#include "core/io/json_cursor.h"

#include <cmath>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/io/bounded_json.h"

namespace svgear {
namespace {

nlohmann::json read_document(const std::string& text) {
  std::istringstream in(text);
  JsonCursor cursor(in);
  nlohmann::json value = cursor.read_value(0);
  cursor.expect_end();
  return value;
}

TEST(JsonCursor, ReadsEveryKindOfValueAsNlohmannDoes) {
  const std::string text = R"( {"a" : [1, -0, 2.5, -1.25e-3, 6E2, 123456789012, -9223372036854775808, 0.1],
    "escaped \"key\"": "tab\there, \u00e9 \ud83d\ude00 \\ \/ end", "utf8": "caf\u00e9 — ok",
    "t": true, "f": false, "n": null, "empty": {}, "none": [], "deep": {"b": [[{"c": [null]}]]}}
  )";
  const nlohmann::json expected = nlohmann::json::parse(text);
  const nlohmann::json read = read_document(text);
  EXPECT_EQ(read, expected) << read.dump();
  EXPECT_TRUE(read["a"][0].is_number_integer());
  EXPECT_TRUE(read["a"][2].is_number_float());
  EXPECT_EQ(read["a"][6].get<int64_t>(), INT64_MIN);
  // Past double's range: infinity and zero, as strtod gives them.
  const nlohmann::json huge = read_document("[1e400, -2E+999, 3e-400]");
  EXPECT_TRUE(std::isinf(huge[0].get<double>()) && huge[0].get<double>() > 0);
  EXPECT_TRUE(std::isinf(huge[1].get<double>()) && huge[1].get<double>() < 0);
  EXPECT_EQ(huge[2].get<double>(), 0.0);
}

TEST(JsonCursor, ReadsNumbersOfAnArrayByKind) {
  std::istringstream in(R"([7, 2.5, null, "x", {"a": [1]}, -3e2, true, -12])");
  JsonCursor cursor(in);
  std::vector<JsonNumber> read;
  cursor.read_array([&] { read.push_back(cursor.read_number(1)); });
  cursor.expect_end();
  ASSERT_EQ(read.size(), 8u);
  const JsonNumber::Kind kinds[] = {JsonNumber::Whole, JsonNumber::Real,  JsonNumber::Null,  JsonNumber::Other,
                                    JsonNumber::Other, JsonNumber::Real,  JsonNumber::Other, JsonNumber::Whole};
  for (size_t i = 0; i < read.size(); ++i) EXPECT_EQ(read[i].kind, kinds[i]) << i;
  EXPECT_EQ(read[0].whole, 7);
  EXPECT_EQ(read[1].real, 2.5);
  EXPECT_EQ(read[5].real, -300.0);
  EXPECT_EQ(read[7].whole, -12);
}

// A document several times the cursor's 1 MiB buffer, with a string and numbers across its refills.
TEST(JsonCursor, ReadsAcrossItsBufferRefills) {
  std::string text = "{\"long\": \"";
  for (int i = 0; i < 300000; ++i) text += "abcdefg\\n";  // escapes across the refills too
  text += "\", \"numbers\": [";
  for (int i = 0; i < 400000; ++i) text += (i ? ", " : "") + std::to_string(i * 7 - 1000) + (i % 3 ? ".5" : "");
  text += "]}";
  ASSERT_GT(text.size(), size_t(4) << 20);
  const nlohmann::json read = read_document(text);
  EXPECT_EQ(read, nlohmann::json::parse(text));
}

TEST(JsonCursor, RefusesWhatIsNotJson) {
  for (const std::string text :
       {"", "[1,]", "[01]", "[1.]", "[-]", "[.5]", "[1e]", "[+1]", "{\"a\" 1}", "{\"a\": 1,}", "[1 2]", "\"abc",
        "[tru]", "[nul]", "{1: 2}", "[\"a\x01\"]", "[\"\\x\"]", "[\"\\u12\"]", "{} x", "[1]]", "[NaN]", "[inf]",
        "{\"a\": [1, 2}", "[\"\xff\"]"}) {
    try {
      (void)read_document(text);
      ADD_FAILURE() << "read: " << text;
    } catch (const nlohmann::json::parse_error& e) {
      EXPECT_NE(std::string(e.what()).find("at byte"), std::string::npos) << text << ": " << e.what();
      nlohmann::json parsed;
      EXPECT_THROW(parsed = nlohmann::json::parse(text), nlohmann::json::parse_error) << "nlohmann reads " << text;
    }
  }
  const std::string at_limit(size_t(kMaxJsonDepth), '[');
  EXPECT_NO_THROW(read_document(at_limit + std::string(size_t(kMaxJsonDepth), ']')));
  try {
    (void)read_document("[" + at_limit + std::string(size_t(kMaxJsonDepth) + 1, ']'));
    ADD_FAILURE() << "read past the nesting limit";
  } catch (const nlohmann::json::exception& e) {
    EXPECT_NE(std::string(e.what()).find("nested deeper than 64 levels"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace svgear
