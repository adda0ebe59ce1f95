#include "core/text/ascii_look_alike.h"

#include <cctype>
#include <cstdio>
#include <set>

#include "core/text/utf8.h"

namespace svgear {
namespace {

// U+00C0 … U+00FF, lower-cased without their marks; "" for × and ÷, which are no letters.
constexpr const char* kLatin1[64] = {
    "a", "a", "a",  "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o",  "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a",  "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o",  "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};

// U+0100 … U+017F: each letter's base, upper and lower case alike ("ij" and "oe" for the ligatures).
constexpr const char* kLatinExtendedA[128] = {
    "a", "a", "a",  "a",  "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",  // U+0100
    "d", "d", "e",  "e",  "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",  // U+0110
    "g", "g", "g",  "g",  "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",  // U+0120
    "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",  // U+0130
    "l", "l", "l",  "n",  "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",  // U+0140
    "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",  // U+0150
    "s", "s", "t",  "t",  "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",  // U+0160
    "u", "u", "u",  "u",  "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s"};  // U+0170

// Cyrillic and Greek letters a reader takes for Latin ones (upper and lower case).
char look_alike(char32_t c) {
  switch (c) {
    case 0x0410: case 0x0430: case 0x0391: case 0x03B1: return 'a';  // А а Α α
    case 0x0412: case 0x0392: return 'b';                            // В Β
    case 0x0421: case 0x0441: return 'c';                            // С с
    case 0x0415: case 0x0435: case 0x0395: return 'e';               // Е е Ε
    case 0x041D: case 0x0397: return 'h';                            // Н Η
    case 0x0406: case 0x0456: case 0x0399: case 0x03B9: return 'i';  // І і Ι ι
    case 0x0408: case 0x0458: return 'j';                            // Ј ј
    case 0x041A: case 0x039A: case 0x03BA: return 'k';               // К Κ κ
    case 0x041C: case 0x039C: return 'm';                            // М Μ
    case 0x039D: case 0x03BD: return 'n';                            // Ν ν (ν reads as v too; n is nearer)
    case 0x041E: case 0x043E: case 0x039F: case 0x03BF: return 'o';  // О о Ο ο
    case 0x0420: case 0x0440: case 0x03A1: case 0x03C1: return 'p';  // Р р Ρ ρ
    case 0x0405: case 0x0455: return 's';                            // Ѕ ѕ
    case 0x0422: case 0x03A4: return 't';                            // Т Τ
    case 0x0425: case 0x0445: case 0x03A7: case 0x03C7: return 'x';  // Х х Χ χ
    case 0x0423: case 0x0443: case 0x03A5: return 'y';               // У у Υ
    case 0x0396: return 'z';                                         // Ζ
    default: return 0;
  }
}

bool fullwidth_ascii(char32_t c) { return c >= 0xFF01 && c <= 0xFF5E; }

}  // namespace

std::string ascii_look_alike(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  for (size_t i = 0; i < word.size();) {
    const Utf8Char ch = utf8_char_at(word, i);
    const char32_t c = ch.code_point;
    if (ch.valid && c < 0x80) {
      out += char(std::tolower(int(c)));
    } else if (ch.valid && c >= 0xC0 && c <= 0xFF && *kLatin1[c - 0xC0]) {
      out += kLatin1[c - 0xC0];
    } else if (ch.valid && c >= 0x100 && c <= 0x17F) {
      out += kLatinExtendedA[c - 0x100];
    } else if (ch.valid && fullwidth_ascii(c)) {
      out += char(std::tolower(int(c - 0xFF01 + 0x21)));
    } else if (const char latin = ch.valid ? look_alike(c) : 0) {
      out += latin;
    } else {
      out.append(word.substr(i, ch.length));
    }
    i += ch.length;
  }
  return out;
}

std::string hidden_look_alikes(std::string_view word) {
  std::string named;
  std::set<char32_t> seen;
  for (size_t i = 0; i < word.size();) {
    const Utf8Char ch = utf8_char_at(word, i);
    i += ch.length;
    if (!ch.valid || !look_alike(ch.code_point) || !seen.insert(ch.code_point).second) continue;
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", unsigned(ch.code_point));
    named += (named.empty() ? "" : ", ") + std::string(code) + (ch.code_point < 0x400 ? " is Greek" : " is Cyrillic");
  }
  return named;
}

}  // namespace svgear
