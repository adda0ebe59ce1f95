#pragma once
// Reading UTF-8 one character at a time, for the prompt code that works on characters, not bytes.

#include <cstddef>
#include <string_view>

namespace svgear {

struct Utf8Char {
  char32_t code_point = 0;  // the byte's own value when !valid
  size_t length = 1;        // bytes; 1 when !valid
  bool valid = false;       // false for a byte that starts no well-formed sequence (overlong forms,
                            // surrogates and values past U+10FFFF included)
};

// The character that starts at text[i] (i < text.size()).
Utf8Char utf8_char_at(std::string_view text, size_t i);

}  // namespace svgear
