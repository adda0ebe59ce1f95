#include "core/text/precompiled_charsmap.h"

#include <cstring>
#include <string>

#include "core/user_error.h"

namespace svgear {
namespace {

// darts-clone's DoubleArrayUnit fields.
bool unit_has_leaf(uint32_t unit) { return ((unit >> 8) & 1) == 1; }
uint32_t unit_value(uint32_t unit) { return unit & ((1U << 31) - 1); }
uint32_t unit_label(uint32_t unit) { return unit & ((1U << 31) | 0xFF); }
uint32_t unit_offset(uint32_t unit) { return (unit >> 10) << ((unit & (1U << 9)) >> 6); }

size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0 && lead < 0xF8) return 4;
  if (lead >= 0xE0) return lead < 0xF0 ? 3 : 1;
  if (lead >= 0xC0) return 2;
  return 1;
}

}  // namespace

PrecompiledCharsmap::PrecompiledCharsmap(std::string_view blob) {
  uint32_t trie_bytes = 0;
  if (blob.size() >= 4) std::memcpy(&trie_bytes, blob.data(), 4);  // little-endian, as x86
  if (blob.size() < 4 || trie_bytes % 4 != 0 || trie_bytes > blob.size() - 4 || trie_bytes == 0) {
    throw UserError("the tokenizer's precompiled_charsmap is malformed: download it again");
  }
  if (trie_bytes > kMaxTrieBytes) {
    throw UserError("the tokenizer's precompiled_charsmap holds a trie of " + std::to_string(trie_bytes) +
                    " bytes, past any normalisation table's: download it again");
  }
  trie_.resize(trie_bytes / 4);
  std::memcpy(trie_.data(), blob.data() + 4, trie_bytes);
  normalized_ = std::string(blob.substr(4 + trie_bytes));
  check_bounded();
}

void PrecompiledCharsmap::check_bounded() const {
  // Walks every base node a key can reach, as darts-clone's commonPrefixSearch steps (no bounds
  // checks there): from base b, byte c reads unit b ^ c, and a matching label leads to base
  // (b ^ c) ^ offset, whose unit is also read as a value when the label unit has a leaf.
  const size_t size = trie_.size();
  const auto fail = [] {
    throw UserError("the tokenizer's precompiled_charsmap is malformed (its trie points outside itself): "
                    "download it again");
  };
  const uint32_t root = unit_offset(trie_[0]);
  if (root >= size) fail();
  std::vector<bool> seen(size);
  std::vector<uint32_t> bases = {root};
  seen[root] = true;
  while (!bases.empty()) {
    const uint32_t base = bases.back();
    bases.pop_back();
    for (uint32_t c = 0; c < 256; ++c) {
      const uint32_t node = base ^ c;
      if (node >= size) fail();
      const uint32_t unit = trie_[node];
      if (unit_label(unit) != c) continue;
      const uint32_t next = node ^ unit_offset(unit);
      if (next >= size) fail();
      if (unit_has_leaf(unit)) {
        const uint32_t value = unit_value(trie_[next]);
        if (value >= normalized_.size()) fail();
        // A table whose replacements run long would grow each prompt character into megabytes
        // before the tokens are cut to the text length.
        const size_t length = strnlen(normalized_.c_str() + value, kMaxReplacementBytes + 1);
        if (length > kMaxReplacementBytes) {
          throw UserError("the tokenizer's precompiled_charsmap replaces a character with more than " +
                          std::to_string(kMaxReplacementBytes) +
                          " bytes, past any normalisation's (NFKC's longest is 33): download it again");
        }
      }
      if (!seen[next]) {
        seen[next] = true;
        bases.push_back(next);
      }
    }
  }
}

const char* PrecompiledCharsmap::lookup(std::string_view key) const {
  // darts-clone commonPrefixSearch, stopping at the first hit.
  size_t node = unit_offset(trie_[0]);
  for (unsigned char c : key) {
    node ^= c;
    if (node >= trie_.size()) return nullptr;
    const uint32_t unit = trie_[node];
    if (unit_label(unit) != c) return nullptr;
    node ^= unit_offset(unit);
    if (node >= trie_.size()) return nullptr;
    if (unit_has_leaf(unit)) {
      const uint32_t value = unit_value(trie_[node]);
      return value < normalized_.size() ? normalized_.c_str() + value : nullptr;
    }
  }
  return nullptr;
}

std::string PrecompiledCharsmap::normalize(std::string_view text) const {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t length =
        std::min(utf8_length(static_cast<unsigned char>(text[i])), text.size() - i);
    const std::string_view character = text.substr(i, length);
    const char* replacement = lookup(character);
    if (replacement) {
      out += replacement;
    } else {
      out += character;
    }
    i += length;
  }
  return out;
}

std::string decode_base64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) throw UserError("the tokenizer's precompiled_charsmap is not valid base64");
    bits = (bits << 6) | uint32_t(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += char((bits >> count) & 0xFF);
    }
  }
  return out;
}

}  // namespace svgear
