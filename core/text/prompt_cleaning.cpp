#include "core/text/prompt_cleaning.h"

#include <algorithm>
#include <cstdint>

#include "core/text/html_entities.h"
#include "core/text/utf8.h"

namespace svgear {
namespace {

// Code points, as Python's str indexes them.
using Text = std::u32string;

Text decode_utf8(std::string_view s) {
  Text out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const Utf8Char c = utf8_char_at(s, i);
    out += c.valid ? c.code_point : U'\uFFFD';  // one per bad byte, as Python's errors="replace" nearly does
    i += c.length;
  }
  return out;
}

std::string encode_utf8(const Text& text) {
  std::string out;
  out.reserve(text.size());
  for (const char32_t c : text) {
    if (c < 0x80) {
      out += char(c);
    } else if (c < 0x800) {
      out += char(0xC0 | (c >> 6));
      out += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += char(0xE0 | (c >> 12));
      out += char(0x80 | ((c >> 6) & 0x3F));
      out += char(0x80 | (c & 0x3F));
    } else {
      out += char(0xF0 | (c >> 18));
      out += char(0x80 | ((c >> 12) & 0x3F));
      out += char(0x80 | ((c >> 6) & 0x3F));
      out += char(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// Windows-1252 for 0x80–0x9F, where it differs from Latin-1; the five bytes it leaves undefined
// stay themselves (Python's html._invalid_charrefs and ftfy's sloppy-windows-1252 agree).
char32_t windows_1252(char32_t c) {
  static constexpr char32_t kHigh[32] = {
      0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
  return c >= 0x80 && c <= 0x9F ? kHigh[c - 0x80] : c;
}

const char* find_entity(const HtmlEntity* table, size_t count, std::string_view name) {
  const HtmlEntity* end = table + count;
  const HtmlEntity* it =
      std::lower_bound(table, end, name, [](const HtmlEntity& e, std::string_view n) { return std::string_view(e.name) < n; });
  return it != end && std::string_view(it->name) == name ? it->text : nullptr;
}

const char* html5_entity(const Text& name) {
  for (const char32_t c : name) {
    if (c >= 0x80) return nullptr;  // every name is ASCII
  }
  return find_entity(kHtml5Entities, kHtml5EntityCount, encode_utf8(name));
}

bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
bool is_hex_digit(char32_t c) { return is_digit(c) || (c >= U'a' && c <= U'f') || (c >= U'A' && c <= U'F'); }
bool is_alnum(char32_t c) { return is_digit(c) || (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'); }
// What html.unescape's [^\t\n\f <&#;] leaves out of a name.
bool ends_name(char32_t c) {
  return c == U'\t' || c == U'\n' || c == U'\f' || c == U' ' || c == U'<' || c == U'&' || c == U'#' || c == U';';
}

// Python's html._replace_charref for a numeric reference (`num` saturates past U+10FFFF).
Text numeric_reference(uint32_t num) {
  if (num == 0) return U"\uFFFD";
  if (num == 0x0D) return U"\r";
  if (num >= 0x80 && num <= 0x9F) return Text(1, windows_1252(num));
  if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) return U"\uFFFD";
  const bool invalid = (num >= 0x01 && num <= 0x08) || num == 0x0B || (num >= 0x0E && num <= 0x1F) ||
                       num == 0x7F || (num >= 0xFDD0 && num <= 0xFDEF) || (num & 0xFFFE) == 0xFFFE;
  return invalid ? Text() : Text(1, char32_t(num));
}

// Python's html.unescape: the regex &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?), each
// match replaced by html._replace_charref.
Text html_unescape(const Text& s) {
  Text out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != U'&') {
      out += s[i++];
      continue;
    }
    size_t j = i + 1;
    if (j < s.size() && s[j] == U'#') {
      const bool hex = j + 1 < s.size() && (s[j + 1] == U'x' || s[j + 1] == U'X');
      const size_t start = j + (hex ? 2 : 1);
      size_t k = start;
      uint32_t num = 0;
      while (k < s.size() && (hex ? is_hex_digit(s[k]) : is_digit(s[k]))) {
        const uint32_t digit = is_digit(s[k]) ? s[k] - U'0' : (s[k] | 0x20) - U'a' + 10;
        num = std::min<uint32_t>(num * (hex ? 16 : 10) + digit, 0x110000);  // past U+10FFFF is all one
        ++k;
      }
      if (k == start) {  // no digits: no alternative matches at this '&'
        out += s[i++];
        continue;
      }
      if (k < s.size() && s[k] == U';') ++k;
      out += numeric_reference(num);
      i = k;
      continue;
    }
    size_t k = j;
    while (k < s.size() && k - j < 32 && !ends_name(s[k])) ++k;
    if (k == j) {
      out += s[i++];
      continue;
    }
    if (k < s.size() && s[k] == U';') ++k;
    const Text name = s.substr(j, k - j);
    i = k;
    if (const char* text = html5_entity(name)) {
      out += decode_utf8(text);
      continue;
    }
    // The longest prefix that is an entity (one of the legacy names without ';').
    bool found = false;
    for (size_t x = name.size() - 1; x > 1 && !found; --x) {
      if (const char* text = html5_entity(name.substr(0, x))) {
        out += decode_utf8(text) + name.substr(x);
        found = true;
      }
    }
    if (!found) out += U'&' + name;
  }
  return out;
}

// ftfy's fixes.unescape_html: the regex &#?[0-9A-Za-z]{1,24}; and a name it knows, or a numeric
// reference html.unescape decodes whole.
Text ftfy_unescape_html(const Text& s) {
  Text out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != U'&') {
      out += s[i++];
      continue;
    }
    const size_t j = i + 1;
    const size_t start = j < s.size() && s[j] == U'#' ? j + 1 : j;
    size_t k = start;
    while (k < s.size() && is_alnum(s[k])) ++k;
    if (k == start || k - start > 24 || k >= s.size() || s[k] != U';') {
      out += s[i++];
      continue;
    }
    const Text match = s.substr(i, k + 1 - i);
    i = k + 1;
    const std::string name = encode_utf8(match.substr(1));  // without '&', with ';'
    if (start == j) {
      const char* text = find_entity(kHtml5Entities, kHtml5EntityCount, name);
      if (!text) text = find_entity(kFtfyUppercaseEntities, kFtfyUppercaseEntityCount, name);
      out += text ? decode_utf8(text) : match;
    } else {
      const Text decoded = html_unescape(match);
      out += decoded.find(U';') == Text::npos ? decoded : match;  // only a whole reference
    }
  }
  return out;
}

char32_t uncurl(char32_t c) {
  if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) return U'\'';
  if (c >= 0x201C && c <= 0x201F) return U'"';
  return c;
}

// ftfy's LIGATURES; ŉ becomes ʼn, whose ʼ uncurl_quotes then straightens.
const char32_t* ligature(char32_t c) {
  switch (c) {
    case 0x0132: return U"IJ";
    case 0x0133: return U"ij";
    case 0x0149: return U"\u02BCn";
    case 0x01C4: return U"D\u017D";
    case 0x01C5: return U"D\u017E";
    case 0x01C6: return U"d\u017E";
    case 0x01C7: return U"LJ";
    case 0x01C8: return U"Lj";
    case 0x01C9: return U"lj";
    case 0x01CA: return U"NJ";
    case 0x01CB: return U"Nj";
    case 0x01CC: return U"nj";
    case 0x01F1: return U"DZ";
    case 0x01F2: return U"Dz";
    case 0x01F3: return U"dz";
    case 0xFB00: return U"ff";
    case 0xFB01: return U"fi";
    case 0xFB02: return U"fl";
    case 0xFB03: return U"ffi";
    case 0xFB04: return U"ffl";
    case 0xFB05: return U"\u017Ft";
    case 0xFB06: return U"st";
    default: return nullptr;
  }
}

// ftfy's WIDTH_MAP: NFKC of U+FF01–U+FFEF, and U+3000 → space. Full-width ASCII is an offset; the
// rest (half-width CJK punctuation, katakana, hangul, symbols) is this table, from Python 3.11's
// unicodedata.
struct WidthEntry {
  char32_t from;
  const char32_t* to;
};
constexpr WidthEntry kWidth[] = {
    {0xFF5F, U"\u2985"}, {0xFF60, U"\u2986"}, {0xFF61, U"\u3002"}, {0xFF62, U"\u300C"},
    {0xFF63, U"\u300D"}, {0xFF64, U"\u3001"}, {0xFF65, U"\u30FB"}, {0xFF66, U"\u30F2"},
    {0xFF67, U"\u30A1"}, {0xFF68, U"\u30A3"}, {0xFF69, U"\u30A5"}, {0xFF6A, U"\u30A7"},
    {0xFF6B, U"\u30A9"}, {0xFF6C, U"\u30E3"}, {0xFF6D, U"\u30E5"}, {0xFF6E, U"\u30E7"},
    {0xFF6F, U"\u30C3"}, {0xFF70, U"\u30FC"}, {0xFF71, U"\u30A2"}, {0xFF72, U"\u30A4"},
    {0xFF73, U"\u30A6"}, {0xFF74, U"\u30A8"}, {0xFF75, U"\u30AA"}, {0xFF76, U"\u30AB"},
    {0xFF77, U"\u30AD"}, {0xFF78, U"\u30AF"}, {0xFF79, U"\u30B1"}, {0xFF7A, U"\u30B3"},
    {0xFF7B, U"\u30B5"}, {0xFF7C, U"\u30B7"}, {0xFF7D, U"\u30B9"}, {0xFF7E, U"\u30BB"},
    {0xFF7F, U"\u30BD"}, {0xFF80, U"\u30BF"}, {0xFF81, U"\u30C1"}, {0xFF82, U"\u30C4"},
    {0xFF83, U"\u30C6"}, {0xFF84, U"\u30C8"}, {0xFF85, U"\u30CA"}, {0xFF86, U"\u30CB"},
    {0xFF87, U"\u30CC"}, {0xFF88, U"\u30CD"}, {0xFF89, U"\u30CE"}, {0xFF8A, U"\u30CF"},
    {0xFF8B, U"\u30D2"}, {0xFF8C, U"\u30D5"}, {0xFF8D, U"\u30D8"}, {0xFF8E, U"\u30DB"},
    {0xFF8F, U"\u30DE"}, {0xFF90, U"\u30DF"}, {0xFF91, U"\u30E0"}, {0xFF92, U"\u30E1"},
    {0xFF93, U"\u30E2"}, {0xFF94, U"\u30E4"}, {0xFF95, U"\u30E6"}, {0xFF96, U"\u30E8"},
    {0xFF97, U"\u30E9"}, {0xFF98, U"\u30EA"}, {0xFF99, U"\u30EB"}, {0xFF9A, U"\u30EC"},
    {0xFF9B, U"\u30ED"}, {0xFF9C, U"\u30EF"}, {0xFF9D, U"\u30F3"}, {0xFF9E, U"\u3099"},
    {0xFF9F, U"\u309A"}, {0xFFA0, U"\u1160"}, {0xFFA1, U"\u1100"}, {0xFFA2, U"\u1101"},
    {0xFFA3, U"\u11AA"}, {0xFFA4, U"\u1102"}, {0xFFA5, U"\u11AC"}, {0xFFA6, U"\u11AD"},
    {0xFFA7, U"\u1103"}, {0xFFA8, U"\u1104"}, {0xFFA9, U"\u1105"}, {0xFFAA, U"\u11B0"},
    {0xFFAB, U"\u11B1"}, {0xFFAC, U"\u11B2"}, {0xFFAD, U"\u11B3"}, {0xFFAE, U"\u11B4"},
    {0xFFAF, U"\u11B5"}, {0xFFB0, U"\u111A"}, {0xFFB1, U"\u1106"}, {0xFFB2, U"\u1107"},
    {0xFFB3, U"\u1108"}, {0xFFB4, U"\u1121"}, {0xFFB5, U"\u1109"}, {0xFFB6, U"\u110A"},
    {0xFFB7, U"\u110B"}, {0xFFB8, U"\u110C"}, {0xFFB9, U"\u110D"}, {0xFFBA, U"\u110E"},
    {0xFFBB, U"\u110F"}, {0xFFBC, U"\u1110"}, {0xFFBD, U"\u1111"}, {0xFFBE, U"\u1112"},
    {0xFFC2, U"\u1161"}, {0xFFC3, U"\u1162"}, {0xFFC4, U"\u1163"}, {0xFFC5, U"\u1164"},
    {0xFFC6, U"\u1165"}, {0xFFC7, U"\u1166"}, {0xFFCA, U"\u1167"}, {0xFFCB, U"\u1168"},
    {0xFFCC, U"\u1169"}, {0xFFCD, U"\u116A"}, {0xFFCE, U"\u116B"}, {0xFFCF, U"\u116C"},
    {0xFFD2, U"\u116D"}, {0xFFD3, U"\u116E"}, {0xFFD4, U"\u116F"}, {0xFFD5, U"\u1170"},
    {0xFFD6, U"\u1171"}, {0xFFD7, U"\u1172"}, {0xFFDA, U"\u1173"}, {0xFFDB, U"\u1174"},
    {0xFFDC, U"\u1175"}, {0xFFE0, U"\u00A2"}, {0xFFE1, U"\u00A3"}, {0xFFE2, U"\u00AC"},
    {0xFFE3, U" \u0304"}, {0xFFE4, U"\u00A6"}, {0xFFE5, U"\u00A5"}, {0xFFE6, U"\u20A9"},
    {0xFFE8, U"\u2502"}, {0xFFE9, U"\u2190"}, {0xFFEA, U"\u2191"}, {0xFFEB, U"\u2192"},
    {0xFFEC, U"\u2193"}, {0xFFED, U"\u25A0"}, {0xFFEE, U"\u25CB"},
};

const char32_t* width(char32_t c) {
  const WidthEntry* end = std::end(kWidth);
  const WidthEntry* it = std::lower_bound(std::begin(kWidth), end, c, [](const WidthEntry& e, char32_t v) { return e.from < v; });
  return it != end && it->from == c ? it->to : nullptr;
}

bool is_removed_control(char32_t c) {
  return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || (c >= 0x206A && c <= 0x206F) ||
         c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
}

// One round of ftfy's fixers, in its order. Each is a character map but line breaks (CR LF) and
// terminal escapes, so those get their own passes.
Text fix_once(Text text, bool unescape) {
  if (unescape) text = ftfy_unescape_html(text);
  Text mapped;
  mapped.reserve(text.size());
  for (char32_t c : text) {
    c = windows_1252(c);  // fix_c1_controls
    if (const char32_t* letters = ligature(c)) {
      for (const char32_t* p = letters; *p; ++p) mapped += uncurl(*p);  // ŉ's ʼ
      continue;
    }
    if (c >= 0xFF01 && c <= 0xFF5E) {
      c -= 0xFEE0;  // full-width ASCII
    } else if (c == 0x3000) {
      c = U' ';
    } else if (const char32_t* normal = width(c)) {
      for (const char32_t* p = normal; *p; ++p) mapped += uncurl(*p);
      continue;
    }
    mapped += uncurl(c);
  }

  // fix_line_breaks: CR LF first, so it is one break.
  Text lines;
  lines.reserve(mapped.size());
  for (size_t i = 0; i < mapped.size(); ++i) {
    const char32_t c = mapped[i];
    if (c == U'\r' && i + 1 < mapped.size() && mapped[i + 1] == U'\n') continue;
    lines += c == U'\r' || c == 0x2028 || c == 0x2029 || c == 0x85 ? U'\n' : c;
  }

  // remove_terminal_escapes (ESC [ then digits and ';' then a letter; ftfy's \d takes any Unicode
  // digit, here ASCII ones), then remove_control_chars.
  Text out;
  out.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] == 0x1B && i + 1 < lines.size() && lines[i + 1] == U'[') {
      size_t k = i + 2;
      while (k < lines.size() && (is_digit(lines[k]) || lines[k] == U';')) ++k;
      if (k < lines.size() && is_alnum(lines[k]) && !is_digit(lines[k])) {
        i = k;
        continue;
      }
    }
    if (!is_removed_control(lines[i])) out += lines[i];
  }
  return out;
}

// Python's str.isspace, which str.strip uses.
bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// What `\s` matches in the regex module upstream imports (White_Space): str.isspace less U+001C–U+001F.
bool is_regex_space(char32_t c) { return is_python_space(c) && !(c >= 0x1C && c <= 0x1F); }

Text strip(const Text& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && is_python_space(text[begin])) ++begin;
  while (end > begin && is_python_space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

Text fix_text(const Text& text) {
  Text out;
  bool unescape = true;  // "auto"
  for (size_t pos = 0; pos < text.size();) {
    const size_t newline = text.find(U'\n', pos);
    const size_t end = newline == Text::npos ? text.size() : newline + 1;
    Text segment = text.substr(pos, end - pos);
    if (segment.find(U'<') != Text::npos) unescape = false;  // HTML: keep its entities, here and after
    for (;;) {
      Text fixed = fix_once(segment, unescape);
      if (fixed == segment) break;
      segment = std::move(fixed);
    }
    out += segment;
    pos = end;
  }
  return out;
}

Text whitespace_clean(const Text& text) {
  Text out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (!is_regex_space(text[i])) {
      out += text[i++];
      continue;
    }
    out += U' ';
    while (i < text.size() && is_regex_space(text[i])) ++i;
  }
  return strip(out);
}

}  // namespace

std::string clean_prompt(std::string_view text) {
  const Text fixed = fix_text(decode_utf8(text));
  return encode_utf8(whitespace_clean(strip(html_unescape(html_unescape(fixed)))));
}

std::string ftfy_fix_text(std::string_view text) { return encode_utf8(fix_text(decode_utf8(text))); }

std::string python_html_unescape(std::string_view text) { return encode_utf8(html_unescape(decode_utf8(text))); }

std::string clean_whitespace(std::string_view text) { return encode_utf8(whitespace_clean(decode_utf8(text))); }

}  // namespace svgear
