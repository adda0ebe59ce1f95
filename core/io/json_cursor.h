#pragma once
// JsonCursor: walks one JSON document in a stream from front to back without building it, for files
// too large to hold as a tree: a routing trace holds ~170 million numbers per Wan step, and
// nlohmann's parser took ~25 s per GB of them (a JSON value, a callback and strtod per number).
// The caller reads the structure it expects (read_object, read_array), takes what it does not
// know whole (read_value) or reads it past (skip_value); numbers go through std::from_chars.
//
// It reads what nlohmann's stream parser reads, as the same values and types (a UTF-8 byte-order
// mark skipped, non-negative whole numbers unsigned, numbers past double's range refused), with
// nesting bounded as parse_bounded_json bounds it and a key given twice in one object refused as it
// refuses one. Errors are nlohmann::json::parse_error (syntax, a stream that ends early or cannot be
// read, naming the byte), out_of_range (a number past double's range) and other_error (nesting past
// kMaxJsonDepth, a repeated key).

#include <cstdint>
#include <functional>
#include <istream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace svgear {

// One element of an array read by read_number: a number (whole or not), null, or something else
// (read past).
struct JsonNumber {
  enum Kind { Whole, Real, Null, Other } kind = Other;
  bool minus = false;        // written with a sign ("-0" too: nlohmann keeps it signed)
  int64_t whole = 0;         // when Whole
  uint64_t above_int64 = 0;  // a Real that is a whole number past int64's range uint64 holds, else 0
  double real = 0.0;         // when Whole or Real
};

class JsonCursor {
 public:
  // `on_refill`, when given, runs each time the cursor reads more of the stream (every MiB): a
  // reader's chance to stop a long read by throwing.
  explicit JsonCursor(std::istream& in, std::function<void()> on_refill = nullptr);

  // The next token's first character ('{', '[', '"', '-', a digit, 't', 'f', 'n', ',', ':', '}', ']'),
  // white space skipped, not consumed; '\0' at the end of the input.
  char peek();
  // Whether the text has ended: peek's '\0' is also a NUL byte in it (a binary file).
  bool at_end();
  // Consumes `c` as the next token or throws.
  void expect(char c);
  // Consumes `c` when it is the next token.
  bool consume(char c);
  // Any value as a tree; `depth` is the depth it sits at (the document is depth 0).
  nlohmann::json read_value(int depth);
  // Any value, checked as read_value checks it but not kept: a container's elements are dropped as
  // they are read, so a large value takes no more memory than its largest string.
  void skip_value(int depth);
  // An array element that should be a number; anything else is read past as Other.
  JsonNumber read_number(int depth);
  // Reads an object: `on_key(key)` for each key, which must consume exactly its value.
  template <class OnKey>
  void read_object(OnKey on_key) {
    expect('{');
    if (consume('}')) return;
    std::set<std::string> keys;
    do {
      const std::string& key = *insert_new_key(keys, read_key());
      on_key(key);
    } while (consume(','));
    expect('}');
  }
  // Reads an array: `on_element()` for each element, which must consume exactly one value.
  template <class OnElement>
  void read_array(OnElement on_element) {
    expect('[');
    if (consume(']')) return;
    do {
      on_element();
    } while (consume(','));
    expect(']');
  }
  // Only white space remains.
  void expect_end();
  // Bytes consumed so far.
  uint64_t offset() const { return consumed_ + pos_; }

 private:
  // At least `bytes` unread in the buffer unless the input ends first; returns how many there are.
  size_t fill(size_t bytes);
  std::string read_string();
  std::string read_key();  // an object's key and its ':'
  // `key` added to the keys read in its object; throws when it is there already.
  static std::set<std::string>::iterator insert_new_key(std::set<std::string>& keys, std::string key);
  nlohmann::json value(int depth, bool keep);  // read_value, or skip_value where !keep
  // The number token at the cursor, consumed: a view into the buffer, or into `spill` when it is
  // longer than the buffer holds past the cursor.
  std::string_view number_token(std::string& spill);
  [[noreturn]] void fail(const std::string& what) const;

  std::istream& in_;
  std::function<void()> on_refill_;
  std::vector<char> buffer_;
  size_t pos_ = 0, end_ = 0;
  uint64_t consumed_ = 0;  // bytes dropped from the buffer's front
  bool input_ended_ = false;
  bool started_ = false;  // the byte-order mark is looked for once
};

}  // namespace svgear
