#include "core/text/nearest_words.h"

#include <gtest/gtest.h>

namespace svgear {
namespace {

TEST(NearestWords, EditsCountInsertionsDeletionsSubstitutionsAndSwaps) {
  EXPECT_EQ(edit_distance("circle", "circle"), 0u);
  EXPECT_EQ(edit_distance("cirle", "circle"), 1u);   // an insertion
  EXPECT_EQ(edit_distance("circlee", "circle"), 1u);  // a deletion
  EXPECT_EQ(edit_distance("bleu", "blue"), 1u);       // a swap of neighbours
  EXPECT_EQ(edit_distance("rink", "ring"), 1u);       // a substitution
  EXPECT_EQ(edit_distance("", "star"), 4u);
  EXPECT_EQ(edit_distance("abc", "cab"), 2u);
}

TEST(NearestWords, NamesEveryNearestWithinATypoOrTwo) {
  const std::vector<std::string> vocabulary = {"ring", "king", "circle", "checkerboard", "left", "red"};
  EXPECT_EQ(nearest_words("rinh", vocabulary), (std::vector<std::string>{"ring"}));
  EXPECT_EQ(nearest_words("ding", vocabulary), (std::vector<std::string>{"ring", "king"}));  // both at one edit
  // Both at two edits, found after the first of them set the nearest distance to two.
  EXPECT_EQ(nearest_words("clusters", {"k-clusters", "q-clusters"}), (std::vector<std::string>{"k-clusters", "q-clusters"}));
  EXPECT_EQ(nearest_words("chekerbaord", vocabulary), (std::vector<std::string>{"checkerboard"}));  // two, at 11 bytes
  EXPECT_TRUE(nearest_words("circ", vocabulary).empty());  // two edits: too far for 4 bytes
  EXPECT_EQ(nearest_words("rde", vocabulary), (std::vector<std::string>{"red"}));  // one edit at 3 bytes
  EXPECT_EQ(nearest_words("blu", {"blue", "black"}), (std::vector<std::string>{"blue"}));
  EXPECT_TRUE(nearest_words("rd", vocabulary).empty());    // below 3 bytes, none
  EXPECT_TRUE(nearest_words("ring", vocabulary).empty());  // a word of the vocabulary
  EXPECT_TRUE(nearest_words(std::string(100000, 'r'), vocabulary).empty());
}

// An accent, a look-alike letter of another alphabet or fullwidth letters are no typo of the
// reader's: measured byte by byte, "círcle" is two edits from "circle" and "rеd" (Cyrillic е) two
// from "red", too far to be named.
TEST(NearestWords, SpellingsThatLookLikeAWordNameIt) {
  const std::vector<std::string> vocabulary = {"red", "circle", "left", "square"};
  EXPECT_EQ(nearest_words("c\u00edrcle", vocabulary), (std::vector<std::string>{"circle"}));
  EXPECT_EQ(nearest_words("r\u0435d", vocabulary), (std::vector<std::string>{"red"}));
  EXPECT_EQ(nearest_words("\uff4c\uff45\uff46\uff54", vocabulary), (std::vector<std::string>{"left"}));
  EXPECT_EQ(nearest_words("SQUARE", vocabulary), (std::vector<std::string>{"square"}));
  EXPECT_EQ(nearest_words("c\u00edrclee", vocabulary), (std::vector<std::string>{"circle"}));  // and a typo
  // A candidate spelt with its accent is itself, whatever it looks like.
  EXPECT_TRUE(nearest_words("caf\u00e9", {"cafe", "caf\u00e9"}).empty());
  // Which letters are another alphabet's is said: in the message they look like the word meant.
  EXPECT_EQ(did_you_mean({"gr\u00fcn", "r\u0435d"}, {"green", "red"}),
            " (did you mean 'red' for 'r\u0435d' (its U+0435 is Cyrillic)?)");
  EXPECT_EQ(did_you_mean({"c\u00edrcle"}, vocabulary), " (did you mean 'circle'?)");  // an accent is seen
}

TEST(NearestWords, DidYouMeanNamesWhichWordEachSuggestionIsFor) {
  const std::vector<std::string> vocabulary = {"ring", "king", "circle", "left"};
  EXPECT_EQ(did_you_mean({"cirle"}, vocabulary), " (did you mean 'circle'?)");
  EXPECT_EQ(did_you_mean({"ding"}, vocabulary), " (did you mean 'ring' or 'king'?)");
  EXPECT_EQ(did_you_mean({"cirle", "xyzzy", "lfet"}, vocabulary),
            " (did you mean 'circle' for 'cirle', 'left' for 'lfet'?)");
  EXPECT_EQ(did_you_mean({"xyzzy"}, vocabulary), "");
}

}  // namespace
}  // namespace svgear
