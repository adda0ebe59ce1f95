// Upstream Wan's prompt cleaning (core/text/prompt_cleaning.h), against the real thing.
//
// The expected strings of the first three tests were made by running upstream's code on the input:
// Python 3.11 with ftfy 6.3.1 and regex (pip install --target /tmp/...), and
//   basic_clean(t)      = html.unescape(html.unescape(ftfy.fix_text(t))).strip()
//   whitespace_clean(t) = regex.sub(r'\s+', ' ', t).strip()
// as in Wan2.1/Wan2.2 wan/modules/tokenizers.py; the readable comment over each pair is Python's
// repr of input -> output. Strings are UTF-8 in octal escapes ("s" literals, so NUL stays).

#include "core/text/prompt_cleaning.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"

namespace svgear {
namespace {

using namespace std::string_literals;
using Pairs = std::vector<std::pair<std::string, std::string>>;

// whitespace_clean(basic_clean(input)): curly quotes, entities (twice unescaped), ligatures, C1
// controls, line breaks, terminal escapes, emoji, full-width text, Chinese.
const Pairs kUpstreamCleaned = {
    // 'the dog’s “ball”' -> 'the dog\'s "ball"'
    {"the dog\342\200\231s \342\200\234ball\342\200\235"s,
     "the dog's \042ball\042"s},
    // '‘single’ ‛odd‟ „low” ʼokina' -> '\'single\' \'odd" "low" \'okina'
    {"\342\200\230single\342\200\231 \342\200\233odd\342\200\237 \342\200\236low\342\200\235 \312\274okina"s,
     "'single' 'odd\042 \042low\042 'okina"s},
    // 'Tom &amp; Jerry &lt;3' -> 'Tom & Jerry <3'
    {"Tom &amp; Jerry &lt;3"s,
     "Tom & Jerry <3"s},
    // 'Tom &amp;amp; Jerry' -> 'Tom & Jerry'
    {"Tom &amp;amp; Jerry"s,
     "Tom & Jerry"s},
    // 'fish &amp;amp;amp; chips' -> 'fish & chips'
    {"fish &amp;amp;amp; chips"s,
     "fish & chips"s},
    // 'it&#8217;s a &#x201C;test&#x201D;' -> 'it\'s a "test"'
    {"it&#8217;s a &#x201C;test&#x201D;"s,
     "it's a \042test\042"s},
    // 'rock&nbsp;&nbsp;roll &copy 2024 &notit; &ampfoo' -> 'rock roll © 2024 ¬it; &foo'
    {"rock&nbsp;&nbsp;roll &copy 2024 &notit; &ampfoo"s,
     "rock roll \302\251 2024 \302\254it; &foo"s},
    // '<b>it&rsquo;s</b> bold' -> '<b>it’s</b> bold'
    {"<b>it&rsquo;s</b> bold"s,
     "<b>it\342\200\231s</b> bold"s},
    // 'it&rsquo;s <b> bold' -> 'it’s <b> bold'
    {"it&rsquo;s <b> bold"s,
     "it\342\200\231s <b> bold"s},
    // 'a &hellip; b &mdash; c &eacute;t&eacute; &EACUTE; caf&#233;' -> 'a … b — c été É café'
    {"a &hellip; b &mdash; c &eacute;t&eacute; &EACUTE; caf&#233;"s,
     "a \342\200\246 b \342\200\224 c \303\251t\303\251 \303\211 caf\303\251"s},
    // '&#0;x &#1;y &#128;z &#x110000;w &#xD800;v &#65 &#x41 &#13;' -> '�x y €z �w �v A A'
    {"&#0;x &#1;y &#128;z &#x110000;w &#xD800;v &#65 &#x41 &#13;"s,
     "\357\277\275x y \342\202\254z \357\277\275w \357\277\275v A A"s},
    // 'ﬁsh ﬂower ﬀ ĳ' -> 'fish flower ff ij'
    {"\357\254\201sh \357\254\202ower \357\254\200 \304\263"s,
     "fish flower ff ij"s},
    // 'a\x85b c\x92d e\x81f' -> "a…b c'd e\x81f"
    {"a\302\205b c\302\222d e\302\201f"s,
     "a\342\200\246b c'd e\302\201f"s},
    // 'line one\r\nline two\rthree\u2028four\u2029five' -> 'line one line two three four five'
    {"line one\015\012line two\015three\342\200\250four\342\200\251five"s,
     "line one line two three four five"s},
    // '\x1b[31mred\x1b[0m text\x07 \ufeffbom' -> 'red text bom'
    {"\033[31mred\033[0m text\007 \357\273\277bom"s,
     "red text bom"s},
    // 'a cat 🐱 on a mat 🎨' -> 'a cat 🐱 on a mat 🎨'
    {"a cat \360\237\220\261 on a mat \360\237\216\250"s,
     "a cat \360\237\220\261 on a mat \360\237\216\250"s},
    // 'Ａ ｒｅｄ cat， walks\u3000fast' -> 'A red cat, walks fast'
    {"\357\274\241 \357\275\222\357\275\205\357\275\204 cat\357\274\214 walks\343\200\200fast"s,
     "A red cat, walks fast"s},
    // '一只猫在草地上走。' -> '一只猫在草地上走。'
    {"\344\270\200\345\217\252\347\214\253\345\234\250\350\215\211\345\234\260\344\270\212\350\265\260\343\200\202"s,
     "\344\270\200\345\217\252\347\214\253\345\234\250\350\215\211\345\234\260\344\270\212\350\265\260\343\200\202"s},
    // '  “quoted”  \n\n ' -> '"quoted"'
    {"  \342\200\234quoted\342\200\235  \012\012 "s,
     "\042quoted\042"s},
    // 'a &lt;b&gt; c' -> 'a <b> c'
    {"a &lt;b&gt; c"s,
     "a <b> c"s},
    // 'x\n<y\nit&rsquo;s' -> 'x <y it’s'
    {"x\012<y\012it&rsquo;s"s,
     "x <y it\342\200\231s"s},
};

TEST(PromptCleaning, MatchesUpstreamOnPrompts) {
  for (const auto& [input, expected] : kUpstreamCleaned) {
    EXPECT_EQ(clean_prompt(input), expected) << "input: " << input;
  }
}

// Python's html.unescape alone: entities without ';' (the legacy ones, and the longest such prefix
// of an unknown name), numeric references out of range, noncharacters, C1 and control code points,
// names of more than 32 characters.
TEST(PromptCleaning, HtmlUnescapeIsPythons) {
  const Pairs cases = {
    // '&amp &ampx &amp; &AMP; &EACUTE; &notit; &notin; &copy2024' -> '& &x & & &EACUTE; ¬it; ∉ ©2024'
      {"&amp &ampx &amp; &AMP; &EACUTE; &notit; &notin; &copy2024"s,
       "& &x & & &EACUTE; \302\254it; \342\210\211 \302\2512024"s},
      // '&#65;&#x42;&#X43;&#0068 &#x;&#;&#abc; &# 1' -> 'ABCD &#x;&#;&#abc; &# 1'
      {"&#65;&#x42;&#X43;&#0068 &#x;&#;&#abc; &# 1"s,
       "ABCD &#x;&#;&#abc; &# 1"s},
      // '&#99999999999999999999; &#xfffe; &#x1FFFF; &#x85; &#x81; &#127; &#12;' -> '�   … \x81  \x0c'
      {"&#99999999999999999999; &#xfffe; &#x1FFFF; &#x85; &#x81; &#127; &#12;"s,
       "\357\277\275   \342\200\246 \302\201  \014"s},
      // '&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;' -> '&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;'
      {"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"s,
       "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"s},
      // '&lt&gt&quot&apos; &nbsp;|' -> '<>"\' \xa0|'
      {"&lt&gt&quot&apos; &nbsp;|"s,
       "<>\042' \302\240|"s},
      // 'a &été; b' -> 'a &été; b'
      {"a &\303\251t\303\251; b"s,
       "a &\303\251t\303\251; b"s},
      // '&amp\r;' -> '&\r;'
      {"&amp\015;"s,
       "&\015;"s},
      // '&amp\x00;' -> '&\x00;'
      {"&amp\000;"s,
       "&\000;"s},
  };
  for (const auto& [input, expected] : cases) EXPECT_EQ(python_html_unescape(input), expected) << input;
}

// ftfy.fix_text alone: its entity pass repeats until nothing changes, wants the ';', knows
// upper-cased names; it is off for a line holding '<' and every line after it; ŉ and Ǆ split, CR
// and CR LF become LF, control characters and terminal escapes go.
TEST(PromptCleaning, FixTextIsFtfys) {
  const Pairs cases = {
    // '&amp;amp;rsquo; &EACUTE; &amp &#x41; &#65' -> "' É &amp A &#65"
      {"&amp;amp;rsquo; &EACUTE; &amp &#x41; &#65"s,
       "' \303\211 &amp A &#65"s},
      // '<p>&amp;</p>\n&amp;' -> '<p>&amp;</p>\n&amp;'
      {"<p>&amp;</p>\012&amp;"s,
       "<p>&amp;</p>\012&amp;"s},
      // '&amp;\n<p>\n&amp;' -> '&\n<p>\n&amp;'
      {"&amp;\012<p>\012&amp;"s,
       "&\012<p>\012&amp;"s},
      // 'aŉbǄ\r\r\nc\x00d\x7fe\u206af￼g' -> "a'nbDŽ\n\ncdefg"
      {"a\305\211b\307\204\015\015\012c\000d\177e\342\201\252f\357\277\274g"s,
       "a'nbD\305\275\012\012cdefg"s},
      // '\x1b[1;31mbold\x1b[m \x1b[xno' -> 'bold no'
      {"\033[1;31mbold\033[m \033[xno"s,
       "bold no"s},
  };
  for (const auto& [input, expected] : cases) EXPECT_EQ(ftfy_fix_text(input), expected) << input;
}

// Not done: ftfy's NFC. Upstream gives "caf\303\251" and "\343\202\254\343\203\251\343\202\271"
// (ガラス) here; the cleaned text keeps the combining marks (SentencePiece's nmt_nfkc composes them:
// see SpieceTokenizer.DecomposedTextGetsTheComposedIds).
TEST(PromptCleaning, LeavesCompositionToTheNormaliser) {
  EXPECT_EQ(clean_prompt("cafe\314\201"), "cafe\314\201");
  EXPECT_EQ(clean_prompt("\357\275\266\357\276\236\357\276\227\357\275\275"),  // half-width ｶﾞﾗｽ
            "\343\202\253\343\202\231\343\203\251\343\202\271");  // カ, U+3099, ラス
}

// Ours (upstream takes a Python str): each byte that is not UTF-8 is U+FFFD. Requests are checked
// for UTF-8 before this.
TEST(PromptCleaning, BytesThatAreNotUtf8ReadAsReplacementCharacters) {
  EXPECT_EQ(clean_prompt("a\377b \300\257"), "a\357\277\275b \357\277\275\357\277\275");
}

}  // namespace
}  // namespace svgear
