#include "core/text/ascii_look_alike.h"

#include <gtest/gtest.h>

namespace svgear {
namespace {

TEST(AsciiLookAlike, AccentsCaseAndLigaturesGiveWayToPlainLetters) {
  EXPECT_EQ(ascii_look_alike("circle"), "circle");
  EXPECT_EQ(ascii_look_alike("Circle"), "circle");
  EXPECT_EQ(ascii_look_alike("c\u00edrcle"), "circle");          // í
  EXPECT_EQ(ascii_look_alike("GR\u00d6SSE"), "grosse");          // Ö
  EXPECT_EQ(ascii_look_alike("stra\u00dfe"), "strasse");         // ß
  EXPECT_EQ(ascii_look_alike("\u00c6on"), "aeon");               // Æ
  EXPECT_EQ(ascii_look_alike("\u0141\u00f3d\u017a"), "lodz");    // Ł ó ź (Latin Extended-A)
  EXPECT_EQ(ascii_look_alike("\u0152uvre"), "oeuvre");           // Œ
  EXPECT_EQ(ascii_look_alike("\u00ff\u0178"), "yy");             // ÿ Ÿ, the last of each table
  EXPECT_EQ(ascii_look_alike("2\u00d73"), "2\u00d73");           // × is no letter: kept
}

TEST(AsciiLookAlike, LookAlikeLettersOfOtherAlphabetsAndFullwidthBecomeLatin) {
  EXPECT_EQ(ascii_look_alike("r\u0435d"), "red");                     // Cyrillic е
  EXPECT_EQ(ascii_look_alike("\u0421\u0410\u0422"), "cat");           // Cyrillic С А, Т
  EXPECT_EQ(ascii_look_alike("\u03bfval"), "oval");                   // Greek ο
  EXPECT_EQ(ascii_look_alike("\uff52\uff45\uff44"), "red");           // fullwidth
  EXPECT_EQ(ascii_look_alike("\uff32\uff25\uff24!"), "red!");
  // Letters that look like no Latin one, emoji and bytes that are not UTF-8 stay as they are.
  EXPECT_EQ(ascii_look_alike("\u0434\u043e\u043c"), "\u0434o\u043c");  // д о м: only о looks Latin
  EXPECT_EQ(ascii_look_alike("\u732b"), "\u732b");
  EXPECT_EQ(ascii_look_alike("\xf0\x9f\x94\xb4"), "\xf0\x9f\x94\xb4");
  EXPECT_EQ(ascii_look_alike("a\xffZ"), "a\xffz");
  EXPECT_EQ(ascii_look_alike(""), "");
}

TEST(AsciiLookAlike, HiddenLookAlikesAreNamedByScriptAndCodePoint) {
  EXPECT_EQ(hidden_look_alikes("red"), "");
  EXPECT_EQ(hidden_look_alikes("c\u00edrcle"), "");  // an accent shows
  EXPECT_EQ(hidden_look_alikes("r\u0435d"), "U+0435 is Cyrillic");
  EXPECT_EQ(hidden_look_alikes("\u0421\u03bf\u0421"), "U+0421 is Cyrillic, U+03BF is Greek");  // each once
  EXPECT_EQ(hidden_look_alikes("\uff52ed"), "");  // fullwidth letters show
  EXPECT_EQ(hidden_look_alikes("\u0434\xff"), "");  // д looks like no Latin letter; a stray byte
}

}  // namespace
}  // namespace svgear
