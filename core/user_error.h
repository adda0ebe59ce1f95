#pragma once
// UserError: an error the user can act on (a broken file, an unknown word, an impossible size).
// Everything in core/ that fails because of its input throws a UserError (or a subclass) whose
// message says what is wrong and what to do; the Generator turns it into an on_error event.

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace svgear {

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A word of the user's in single quotes for a message, cut after `keep` bytes ("'xxxx…' (130000
// bytes)"): a pasted blob must not fill the terminal. For ASCII words; a cut could split UTF-8.
inline std::string quoted_word(std::string_view word, size_t keep = 40) {
  if (word.size() <= keep) return "'" + std::string(word) + "'";
  return "'" + std::string(word.substr(0, keep)) + "\u2026' (" + std::to_string(word.size()) + " bytes)";
}

// A number the user gave, for a message: ten significant digits, since std::to_string's six read
// 1.0000001 as "1.000000", a value that passes the check it failed.
inline std::string shown_number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.10g", x);
  return text;
}

// A count with its noun for a message: counted_noun(3, "tensor", "tensors") is "3 tensors", with 1
// "1 tensor" (never "tensor(s)").
inline std::string counted_noun(long long n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace svgear
