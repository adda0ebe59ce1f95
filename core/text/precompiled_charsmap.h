#pragma once
// PrecompiledCharsmap: SentencePiece's normalisation table ("nmt_nfkc": NFKC plus a few fixes for
// translation data), as stored in spiece.model and, base64-encoded, in the "Precompiled"
// normalizer of a Hugging Face tokenizer.json. The blob is [u32 trie size][darts-clone double-array
// trie of source strings][NUL-terminated replacements the trie's values point into].
//
// normalize() works character by character and takes the first (shortest) match, which is what
// Hugging Face's Precompiled normalizer does for single-character graphemes (full-width
// "，" → ","; "Ａ" → "A"). Multi-character sources (combining sequences) are not joined.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace svgear {

class PrecompiledCharsmap {
 public:
  // Throws UserError when the blob is malformed, including a trie in which some key would lead a
  // lookup outside the blob: libsentencepiece looks up without bounds checks, so spiece.model's
  // table is checked with this before SentencePiece reads it.
  explicit PrecompiledCharsmap(std::string_view blob);

  std::string normalize(std::string_view text) const;

  // nmt_nfkc's trie is ~240 KB; a bound keeps check_bounded's walk (256 reads per node) short.
  static constexpr uint32_t kMaxTrieBytes = uint32_t(1) << 22;
  // NFKC's longest replacement is 33 bytes (U+FDFA); nmt_nfkc's fixes are shorter.
  static constexpr size_t kMaxReplacementBytes = 256;

 private:
  void check_bounded() const;
  // The replacement of the first trie entry that prefixes `key`, or nullptr.
  const char* lookup(std::string_view key) const;

  std::vector<uint32_t> trie_;  // darts-clone units
  std::string normalized_;  // replacements, each NUL-terminated
};

// Standard base64 (RFC 4648, padding optional); throws UserError on a character outside it.
std::string decode_base64(std::string_view text);

}  // namespace svgear
