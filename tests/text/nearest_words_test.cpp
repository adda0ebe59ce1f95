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
