#include "core/text/precompiled_charsmap.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/user_error.h"

namespace svgear {
namespace {

// A charsmap blob whose trie maps the one character "a" to `replacement`: the root at unit 0, "a"'s
// label unit at 97 (with a leaf), its value unit at 256 pointing at the replacement's first byte.
std::string charsmap_of_a(const std::string& replacement) {
  std::vector<uint32_t> trie(512, 0);
  trie[0] = 1;  // offset 0: the root's children sit at 0 ^ byte
  const uint32_t offset = 97 ^ 256;
  trie[97] = offset << 10 | 1u << 8 | 97;
  std::string blob(4 + trie.size() * 4, '\0');
  const uint32_t trie_bytes = uint32_t(trie.size() * 4);
  std::memcpy(blob.data(), &trie_bytes, 4);
  std::memcpy(blob.data() + 4, trie.data(), trie_bytes);
  return blob + replacement + '\0';
}

TEST(PrecompiledCharsmap, ReplacesEachMatchedCharacter) {
  const PrecompiledCharsmap charsmap(charsmap_of_a("xyz"));
  EXPECT_EQ(charsmap.normalize("a ba"), "xyz bxyz");
}

// A hostile tokenizer.json mapped "a" to 2,000,000 bytes: a 40-word prompt took 1.7 GB and 20 s
// before its tokens were cut to the text length. Replacements past any normalisation's are refused
// when the table loads.
TEST(PrecompiledCharsmap, AReplacementPastAnyNormalisationsIsRefused) {
  const std::string longest(PrecompiledCharsmap::kMaxReplacementBytes, 'b');
  EXPECT_EQ(PrecompiledCharsmap(charsmap_of_a(longest)).normalize("a"), longest);
  try {
    PrecompiledCharsmap{charsmap_of_a(longest + "b")};
    ADD_FAILURE() << "a replacement of " << longest.size() + 1 << " bytes was taken";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("replaces a character with more than 256 bytes"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace svgear
