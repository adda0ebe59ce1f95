#include "core/io/bounded_json.h"

#include <climits>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <ios>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "core/io/json_tree_builder.h"
#include "core/user_error.h"

namespace svgear {

std::string json_error_text(const nlohmann::json::exception& error) {
  std::string_view what = error.what();
  if (what.starts_with("[json.exception.")) {
    if (const size_t end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
  }
  std::string out;
  for (const char c : what.substr(0, 200)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  return out;
}

nlohmann::json::other_error repeated_json_key(const std::string& key) {
  return nlohmann::json::other_error::create(
      604, "the key " + quoted_word(key) + " is given twice in one object: keep the value you mean and remove the other",
      nullptr);
}

namespace {

// A stream's bytes for nlohmann's parser, refusing a NUL where it comes: the lexer takes one for the
// end of the input, so a document followed by a NUL and anything at all had parsed, and a binary
// file read as "unexpected end of input", as if empty. Read as they come: a large binary file
// handed over by mistake is refused at its first NUL, not read whole. A first byte of FF or FE
// (no UTF-8 text has one; UTF-16's byte-order marks start so) is named: the lexer said "invalid
// literal", and a UTF-16 file is what an editor's "Unicode" saves.
class JsonTextBytes {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = char;

  JsonTextBytes() = default;  // the end
  explicit JsonTextBytes(std::istream& in) : bytes_(in) {}

  char operator*() const {
    const char c = *bytes_;
    if (read_ == 0 && (c == '\xFF' || c == '\xFE')) {
      throw nlohmann::json::other_error::create(
          606,
          std::string("the file starts with the byte ") + (c == '\xFF' ? "FF" : "FE") +
              ", which no UTF-8 text does: a JSON file is UTF-8 text (was it saved as UTF-16, or is it no JSON file?)",
          nullptr);
    }
    if (c == '\0') {
      throw nlohmann::json::other_error::create(
          605,
          "byte " + std::to_string(read_ + 1) + " is a NUL: a JSON file is UTF-8 text (is this the right file, or one "
          "saved as UTF-16?)",
          nullptr);
    }
    return c;
  }
  JsonTextBytes& operator++() {
    ++bytes_;
    ++read_;
    return *this;
  }
  bool operator==(const JsonTextBytes& other) const { return bytes_ == other.bytes_; }
  bool operator!=(const JsonTextBytes& other) const { return !(*this == other); }

 private:
  std::istreambuf_iterator<char> bytes_;
  uint64_t read_ = 0;
};

}  // namespace

nlohmann::json parse_bounded_json(std::istream& in) {
  JsonTreeBuilder builder(
      [](int depth) {
        if (depth >= kMaxJsonDepth) {
          throw nlohmann::json::other_error::create(
              600, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", nullptr);
        }
      },
      [](int, const std::string& key, bool repeated) {
        // {"fps": 8, …, "fps": 80} would run at 80 whichever the user meant.
        if (repeated) throw repeated_json_key(key);
      });
  try {
    nlohmann::json::sax_parse(JsonTextBytes(in), JsonTextBytes(), &builder);
  } catch (const std::ios_base::failure& e) {
    // libstdc++'s filebuf throws this past the stream's exception mask: a folder opened as a file.
    throw nlohmann::json::other_error::create(601, "the file could not be read: " + e.code().message(), nullptr);
  }
  return builder.take();
}

bool is_int_number(const nlohmann::json& value) {
  if (!value.is_number_integer()) return false;
  if (value.is_number_unsigned()) return value.get<uint64_t>() <= uint64_t(INT_MAX);
  return value.get<int64_t>() >= INT_MIN && value.get<int64_t>() <= INT_MAX;
}

std::string whole_number_expected(const nlohmann::json& value) {
  // 1e3 reads as the float 1000.0: "a whole number, got 1000.0" alone contradicted itself. Said
  // only of a value an int holds, which written plainly would pass.
  const std::string limit = "a whole number up to " + std::to_string(INT_MAX);
  if (!value.is_number_float()) return limit;
  const double x = value.get<double>();
  if (!std::isfinite(x) || std::trunc(x) != x || x < INT_MIN || x > INT_MAX) return limit;
  return limit + " written without a fraction or an exponent (" + std::to_string(int64_t(x)) + ")";
}

int json_int(const nlohmann::json& value, const std::string& name) {
  if (!is_int_number(value)) {
    throw nlohmann::json::other_error::create(
        602, "'" + name + "' must be " + whole_number_expected(value) + ", got " + value.dump(), nullptr);
  }
  return value.get<int>();
}

void require_json_field(bool ok, const std::string& name, const std::string& range, const nlohmann::json& value) {
  if (ok) return;
  throw nlohmann::json::other_error::create(603, "'" + name + "' must be " + range + ", got " + value.dump(), nullptr);
}

nlohmann::json read_json_if_small(const std::filesystem::path& path, uintmax_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || std::filesystem::file_size(path, ec) > max_bytes || ec) return {};
  std::ifstream in(path);
  try {
    return parse_bounded_json(in);
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

void require_regular_file(const std::filesystem::path& path, const std::string& role) {
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  if (type == std::filesystem::file_type::directory) {
    throw UserError("'" + path.string() + "' is a folder: " + role + " must be a regular file");
  }
  if (!ec && type != std::filesystem::file_type::not_found && type != std::filesystem::file_type::regular) {
    throw UserError("'" + path.string() + "' is not a regular file: " + role + " must be one");
  }
}

}  // namespace svgear
