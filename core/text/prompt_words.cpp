#include "core/text/prompt_words.h"

#include <cctype>

#include "core/text/utf8.h"

namespace svgear {
namespace {

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '\'';
}

// Beyond ASCII, typographic punctuation and spaces separate words as ASCII punctuation does; any
// other character (a letter of another alphabet, an emoji) belongs to its word, so an emoji is a
// word the vocabulary lacks, said so, instead of being cut out or dropped.
bool separates_words(char32_t c) {
  return (c >= 0x80 && c <= 0xBF && c != 0xAA && c != 0xB5 && c != 0xBA) ||  // C1, NBSP, « » ¿ … (ª µ º are letters)
         (c >= 0x2000 && c <= 0x206F) ||                                      // general punctuation: “ ” — …
         (c >= 0x3000 && c <= 0x303F) ||                                      // CJK punctuation
         (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||      // fullwidth punctuation
         (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65);
}

}  // namespace

std::vector<std::string> split_prompt_words(std::string_view prompt) {
  std::vector<std::string> words;
  std::string current;
  const auto end_word = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (size_t i = 0; i < prompt.size();) {
    const char c = prompt[i];
    if (static_cast<unsigned char>(c) < 0x80) {
      if (is_word_char(c)) {
        current += char(std::tolower(static_cast<unsigned char>(c)));
      } else {
        end_word();
      }
      ++i;
      continue;
    }
    // A byte that is not UTF-8 stays in its word, so the message about the word shows it.
    const Utf8Char character = utf8_char_at(prompt, i);
    if (character.valid && separates_words(character.code_point)) {
      end_word();
    } else {
      current.append(prompt.substr(i, character.length));
    }
    i += character.length;
  }
  end_word();
  return words;
}

}  // namespace svgear
