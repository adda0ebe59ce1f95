#include "core/io/json_cursor.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ios>

#include "core/io/bounded_json.h"

namespace svgear {
namespace {

constexpr size_t kBufferBytes = size_t(1) << 20;
// How far ahead a number token is looked for in the buffer before it is gathered across refills: a
// writer's shortest round-trip double has at most 24 characters.
constexpr size_t kLongestNumber = 256;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_number_char(char c) { return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'; }

// A byte for a message: itself when printable ASCII, else its code (a control character or a byte
// of UTF-8 would garble the message).
std::string shown(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string("'") + c + "'";
  char code[16];
  std::snprintf(code, sizeof code, "byte 0x%02X", byte);
  return code;
}

// A number token from_chars could not take (past double's range): nlohmann's verdict, an
// out_of_range error for an overflow, zero for an underflow.
double parsed_by_nlohmann(std::string_view token) { return nlohmann::json::parse(token).get<double>(); }

// JSON's number grammar, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, over [p, end); sets
// `whole` when there is neither a fraction nor an exponent.
bool is_json_number(const char* p, const char* end, bool& whole) {
  if (p < end && *p == '-') ++p;
  if (p == end || !is_digit(*p)) return false;
  if (*p == '0') {
    ++p;
  } else {
    while (p < end && is_digit(*p)) ++p;
  }
  whole = true;
  if (p < end && *p == '.') {
    whole = false;
    if (++p == end || !is_digit(*p)) return false;
    while (p < end && is_digit(*p)) ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    whole = false;
    if (++p < end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !is_digit(*p)) return false;
    while (p < end && is_digit(*p)) ++p;
  }
  return p == end;
}

}  // namespace

JsonCursor::JsonCursor(std::istream& in, std::function<void()> on_refill)
    : in_(in), on_refill_(std::move(on_refill)), buffer_(kBufferBytes) {}

void JsonCursor::fail(const std::string& what) const {
  // 1-based, as nlohmann counts: the byte where reading stopped.
  throw nlohmann::json::parse_error::create(101, offset() + 1, "syntax error: " + what, nullptr);
}

size_t JsonCursor::fill(size_t bytes) {
  if (end_ - pos_ >= bytes || input_ended_) return end_ - pos_;
  std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
  consumed_ += pos_;
  end_ -= pos_;
  pos_ = 0;
  if (on_refill_) on_refill_();
  try {
    while (!input_ended_ && end_ < bytes) {
      in_.read(buffer_.data() + end_, std::streamsize(buffer_.size() - end_));
      end_ += size_t(in_.gcount());
      if (in_.bad()) fail("the file could not be read");
      if (in_.eof() || in_.gcount() == 0) input_ended_ = true;
    }
  } catch (const std::ios_base::failure& e) {  // libstdc++'s filebuf on a folder opened as a file
    fail("the file could not be read: " + e.code().message());
  }
  if (!started_) {
    started_ = true;
    if (end_ - pos_ >= 3 && std::memcmp(buffer_.data() + pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;  // a UTF-8 BOM
  }
  return end_ - pos_;
}

char JsonCursor::peek() {
  for (;;) {
    if (pos_ == end_ && fill(1) == 0) return '\0';
    const char c = buffer_[pos_];
    if (!is_space(c)) return c;
    ++pos_;
  }
}

bool JsonCursor::at_end() { return pos_ == end_ && fill(1) == 0; }

void JsonCursor::expect(char c) {
  const char next = peek();
  if (next == c) {
    ++pos_;
    return;
  }
  fail(std::string("expected '") + c + "', " + (at_end() ? std::string("but the text ends") : "found " + shown(next)));
}

bool JsonCursor::consume(char c) {
  if (peek() != c) return false;
  ++pos_;
  return true;
}

std::string JsonCursor::read_string() {
  expect('"');
  std::string raw;
  bool plain = true;  // printable ASCII without escapes: the text as it stands
  for (;;) {
    if (pos_ == end_ && fill(1) == 0) fail("a string breaks off");
    size_t i = pos_;
    while (i < end_) {
      const auto c = static_cast<unsigned char>(buffer_[i]);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++i;
    }
    raw.append(buffer_.data() + pos_, i - pos_);
    pos_ = i;
    if (pos_ == end_) continue;
    const auto c = static_cast<unsigned char>(buffer_[pos_]);
    if (c == '"') {
      ++pos_;
      break;
    }
    if (c < 0x20) fail("a string holds a control character");
    plain = false;
    if (c == '\\') {
      if (fill(2) < 2) fail("a string breaks off");
      raw.append(buffer_.data() + pos_, 2);  // "\"" and "\\" must not end the string here
      pos_ += 2;
    } else {
      raw.push_back(char(c));
      ++pos_;
    }
  }
  if (plain) return raw;
  // Escapes and UTF-8 are nlohmann's to decode and check (short strings: keys, prompts).
  try {
    return nlohmann::json::parse("\"" + raw + "\"").get<std::string>();
  } catch (const nlohmann::json::parse_error& e) {
    fail(std::string("a string is not valid (") + json_error_text(e) + ")");
  }
}

std::string JsonCursor::read_key() {
  if (const char next = peek(); next != '"') {
    fail(at_end() ? "the text ends where a key should be" : "expected a key, found " + shown(next));
  }
  std::string key = read_string();
  expect(':');
  return key;
}

std::set<std::string>::iterator JsonCursor::insert_new_key(std::set<std::string>& keys, std::string key) {
  const auto [at, added] = keys.insert(std::move(key));
  if (!added) throw repeated_json_key(*at);
  return at;
}

std::string_view JsonCursor::number_token(std::string& spill) {
  fill(kLongestNumber);
  size_t last = pos_;
  while (last < end_ && is_number_char(buffer_[last])) ++last;
  const char* begin = buffer_.data() + pos_;
  const size_t length = last - pos_;
  if (last < end_ || input_ended_) {
    pos_ = last;
    return {begin, length};
  }
  // Longer than the buffer holds past the cursor: gathered across refills (no writer of ours makes one).
  spill.assign(begin, length);
  pos_ = last;
  while (fill(1) > 0 && is_number_char(buffer_[pos_])) spill.push_back(buffer_[pos_++]);
  return spill;
}

JsonNumber JsonCursor::read_number(int depth) {
  const char first = peek();
  if (first == 'n') {
    skip_value(depth);  // null, or an error
    return {JsonNumber::Null};
  }
  if (first != '-' && !is_digit(first)) {
    skip_value(depth);
    return {};
  }
  std::string spill;
  const std::string_view token = number_token(spill);
  const char* begin = token.data();
  const char* end = begin + token.size();
  bool whole = false;
  if (!is_json_number(begin, end, whole)) fail("a malformed number");
  JsonNumber n;
  n.minus = *begin == '-';
  if (whole && std::from_chars(begin, end, n.whole).ec == std::errc()) {
    n.kind = JsonNumber::Whole;
    n.real = double(n.whole);
    return n;
  }
  n.kind = JsonNumber::Real;
  if (whole && !n.minus && std::from_chars(begin, end, n.above_int64).ec == std::errc()) {
    n.real = double(n.above_int64);
    return n;
  }
  n.above_int64 = 0;
  if (std::from_chars(begin, end, n.real).ec == std::errc::result_out_of_range) n.real = parsed_by_nlohmann(token);
  return n;
}

nlohmann::json JsonCursor::read_value(int depth) { return value(depth, true); }

void JsonCursor::skip_value(int depth) { (void)value(depth, false); }

nlohmann::json JsonCursor::value(int depth, bool keep) {
  const char c = peek();
  if ((c == '{' || c == '[') && depth >= kMaxJsonDepth) {
    throw nlohmann::json::other_error::create(600, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels",
                                              nullptr);
  }
  if (c == '{') {
    nlohmann::json object = nlohmann::json::object();
    read_object([&](const std::string& key) {
      nlohmann::json element = value(depth + 1, keep);
      if (keep) object[key] = std::move(element);
    });
    return object;
  }
  if (c == '[') {
    nlohmann::json array = nlohmann::json::array();
    read_array([&] {
      nlohmann::json element = value(depth + 1, keep);
      if (keep) array.push_back(std::move(element));
    });
    return array;
  }
  if (c == '"') return read_string();
  if (c == '-' || is_digit(c)) {
    const JsonNumber n = read_number(depth);
    // nlohmann keeps a non-negative whole number unsigned (the run record's seed is read as one).
    if (n.kind == JsonNumber::Whole) return n.minus ? nlohmann::json(n.whole) : nlohmann::json(uint64_t(n.whole));
    if (n.above_int64 > 0) return n.above_int64;
    return n.real;
  }
  for (const char* word : {"true", "false", "null"}) {
    const size_t length = std::strlen(word);
    if (c == word[0]) {
      if (fill(length) < length || std::memcmp(buffer_.data() + pos_, word, length) != 0) fail("an unknown word");
      pos_ += length;
      if (c == 'n') return nullptr;
      return c == 't';
    }
  }
  fail(at_end() ? std::string("the text ends where a value should be") : "unexpected " + shown(c));
}

void JsonCursor::expect_end() {
  if (peek() != '\0') fail("more text after the document");
}

}  // namespace svgear
