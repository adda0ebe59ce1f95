// JsonCursor reads what nlohmann reads, the same values of the same types, across its buffer's
// refills, and refuses what nlohmann refuses, as a parse error naming the byte, and what
// parse_bounded_json refuses besides (nesting, a repeated key).

#include "core/io/json_cursor.h"

#include <cmath>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/io/bounded_json.h"

namespace svgear {
namespace {

// Equal and of the same types throughout (nlohmann's == compares numbers by value only).
void expect_same(const nlohmann::json& a, const nlohmann::json& b, const std::string& where = "") {
  ASSERT_EQ(a.type(), b.type()) << where << ": " << a.dump() << " vs " << b.dump();
  if (a.is_object()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (const auto& [key, value] : a.items()) {
      ASSERT_TRUE(b.contains(key)) << where << "/" << key;
      expect_same(value, b[key], where + "/" + key);
    }
  } else if (a.is_array()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (size_t i = 0; i < a.size(); ++i) expect_same(a[i], b[i], where + "/" + std::to_string(i));
  } else {
    EXPECT_EQ(a, b) << where;
  }
}

// The document as read_value reads it, after skip_value has read it past (which must accept and
// refuse alike).
nlohmann::json read_document(const std::string& text) {
  std::istringstream skipped(text);
  JsonCursor skipping(skipped);
  skipping.skip_value(0);
  skipping.expect_end();
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
  const nlohmann::json read = read_document(text);
  expect_same(read, nlohmann::json::parse(text));
  EXPECT_TRUE(read["a"][0].is_number_unsigned());  // as nlohmann keeps a seed
  EXPECT_TRUE(read["a"][2].is_number_float());
  EXPECT_EQ(read["a"][6].get<int64_t>(), INT64_MIN);
  // Past int64, within uint64; below double's range (zero); a byte-order mark; a long number.
  const std::string edges = "\xEF\xBB\xBF[18446744073709551615, 9223372036854775808, 3e-400, -1e-999, 0." +
                            std::string(400, '0') + "1, " + std::string(300, '7') + "]";
  expect_same(read_document(edges), nlohmann::json::parse(edges));
  EXPECT_EQ(read_document(edges)[0].get<uint64_t>(), UINT64_MAX);
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
  expect_same(read_document(text), nlohmann::json::parse(text));
  // A long number wherever it meets a refill (the buffer holds 1 MiB).
  for (const size_t before : {size_t(1) << 20, (size_t(1) << 20) - 2000, (size_t(1) << 20) - 300, (size_t(1) << 20) - 3}) {
    const std::string padded = "[\"" + std::string(before, 'x') + "\", 1" + std::string(332, '0') + "e-330]";
    expect_same(read_document(padded), nlohmann::json::parse(padded), std::to_string(before));
  }
}

// A reader's hook runs at each refill and may stop the read by throwing.
TEST(JsonCursor, RunsItsRefillHookEveryMebibyte) {
  std::istringstream in("[\"" + std::string(size_t(3) << 20, 'y') + "\"]");
  int refills = 0;
  JsonCursor cursor(in, [&] {
    if (++refills == 3) throw std::runtime_error("stopped");
  });
  EXPECT_THROW((void)cursor.read_value(0), std::runtime_error);
  EXPECT_EQ(refills, 3);
}

// The document's value, read (kept) or skipped.
void read_or_skip(JsonCursor& cursor, bool skip) {
  if (skip) {
    cursor.skip_value(0);
  } else {
    (void)cursor.read_value(0);
  }
}

TEST(JsonCursor, RefusesWhatIsNotJson) {
  for (const std::string text :
       {"", "[1,]", "[01]", "[1.]", "[-]", "[.5]", "[1e]", "[+1]", "{\"a\" 1}", "{\"a\": 1,}", "[1 2]", "\"abc",
        "[tru]", "[nul]", "{1: 2}", "[\"a\x01\"]", "[\"\\x\"]", "[\"\\u12\"]", "{} x", "[1]]", "[NaN]", "[inf]",
        "{\"a\": [1, 2}", "[\"\xff\"]", "[1e400]", "[-2E+999]"}) {
    for (const bool skip : {false, true}) {
      std::istringstream in(text);
      JsonCursor cursor(in);
      try {
        read_or_skip(cursor, skip);
        cursor.expect_end();
        ADD_FAILURE() << (skip ? "skipped: " : "read: ") << text;
      } catch (const nlohmann::json::exception& e) {
        const bool overflow = e.id == 406;  // out_of_range: a number past double's range, as nlohmann says it
        EXPECT_TRUE(overflow || std::string(e.what()).find("at byte") != std::string::npos) << text << ": " << e.what();
      }
    }
    std::istringstream again(text);
    nlohmann::json parsed;
    EXPECT_THROW(parsed = nlohmann::json::parse(again), nlohmann::json::exception) << "nlohmann reads " << text;
  }
  const std::string at_limit(size_t(kMaxJsonDepth), '[');
  EXPECT_NO_THROW(read_document(at_limit + std::string(size_t(kMaxJsonDepth), ']')));
  for (const bool skip : {false, true}) {
    std::istringstream in("[" + at_limit + std::string(size_t(kMaxJsonDepth) + 1, ']'));
    JsonCursor cursor(in);
    try {
      read_or_skip(cursor, skip);
      ADD_FAILURE() << "read past the nesting limit";
    } catch (const nlohmann::json::exception& e) {
      EXPECT_NE(std::string(e.what()).find("nested deeper than 64 levels"), std::string::npos) << e.what();
    }
  }
}

// A key given twice in one object is refused, read or skipped, at any depth and through read_object,
// as parse_bounded_json refuses it; the same key in two objects is not.
TEST(JsonCursor, RefusesAKeyGivenTwiceInOneObject) {
  for (const std::string text : {R"({"a": 1, "b": 2, "a": 3})", R"([{"x": {"a": [1], "a": {}}}])"}) {
    for (const bool skip : {false, true}) {
      std::istringstream in(text);
      JsonCursor cursor(in);
      try {
        read_or_skip(cursor, skip);
        ADD_FAILURE() << (skip ? "skipped: " : "read: ") << text;
      } catch (const nlohmann::json::exception& e) {
        EXPECT_NE(std::string(e.what()).find("the key 'a' is given twice in one object"), std::string::npos) << e.what();
      }
    }
    std::istringstream again(text);
    EXPECT_THROW((void)parse_bounded_json(again), nlohmann::json::exception) << text;
  }
  std::istringstream in(R"({"a": 1, "a": 2})");
  JsonCursor cursor(in);
  EXPECT_THROW(cursor.read_object([&](const std::string&) { cursor.skip_value(1); }), nlohmann::json::exception);
  EXPECT_EQ(read_document(R"([{"a": 1}, {"a": 2, "b": {"a": 3}}])"),
            nlohmann::json::parse(R"([{"a": 1}, {"a": 2, "b": {"a": 3}}])"));
}

// A document that breaks off where a key should be says so; a NUL byte in it (a binary file) is
// named as a byte, not as the end of the text.
TEST(JsonCursor, SaysWhereTheTextEnds) {
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"{", "the text ends where a key should be"},
           {"{\"a\": 1,", "the text ends where a key should be"},
           {std::string("\0\xff\0", 3), "unexpected byte 0x00"},
           {std::string("{\0", 2), "expected a key, found byte 0x00"},
           {std::string("[1\0", 3), "found byte 0x00"}}) {
    std::istringstream in(text);
    JsonCursor cursor(in);
    try {
      (void)cursor.read_value(0);
      ADD_FAILURE() << message;
    } catch (const nlohmann::json::parse_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(message), std::string::npos) << what;
      if (text.find('\0') != std::string::npos) {
        EXPECT_EQ(what.find("the text ends"), std::string::npos) << what;
      }
    }
  }
}

}  // namespace
}  // namespace svgear
