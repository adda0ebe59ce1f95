#include "core/text/vocab_text_encoder.h"

#include <utility>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/text/prompt_words.h"
#include "core/user_error.h"

namespace svgear {
namespace {

VocabTextEncoder make_encoder() {
  at::Tensor table = at::arange(12, at::kFloat).reshape({4, 3});  // row i = [3i, 3i+1, 3i+2]
  return VocabTextEncoder({"a", "red", "circle", "moves"}, table, 3);
}

TEST(VocabTextEncoder, LooksUpWordsCaseInsensitively) {
  at::Tensor out = make_encoder().encode("A  red, CIRCLE!");
  ASSERT_EQ(out.sizes(), at::IntArrayRef({3, 3}));
  EXPECT_EQ(out[0][0].item<float>(), 0.0f);
  EXPECT_EQ(out[1][0].item<float>(), 3.0f);
  EXPECT_EQ(out[2][2].item<float>(), 8.0f);
}

TEST(VocabTextEncoder, EmptyPromptIsEmptyContext) {
  EXPECT_EQ(make_encoder().encode("  ").sizes(), at::IntArrayRef({0, 3}));
}

TEST(VocabTextEncoder, UnknownWordsListTheVocabulary) {
  try {
    make_encoder().encode("a purple hexagon moves");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'purple'"), std::string::npos) << message;
    EXPECT_NE(message.find("'hexagon'"), std::string::npos) << message;
    EXPECT_NE(message.find("a circle moves red"), std::string::npos) << message;  // sorted vocabulary
  }
}

TEST(VocabTextEncoder, RejectsTooLongPromptsAndBadTables) {
  EXPECT_THROW(make_encoder().encode("a red red circle"), UserError);
  EXPECT_THROW(VocabTextEncoder({"a", "b"}, at::zeros({3, 4}), 4), UserError);
  EXPECT_THROW(VocabTextEncoder({"a", "a"}, at::zeros({2, 4}), 4), UserError);
  // Words no prompt can match: the splitter lower-cases, splits at spaces and punctuation.
  for (const auto& [word, read_as] : {std::pair<std::string, std::string>{"Red", "it reads as 'red'"},
                                      {"a red", "it reads as 'a', 'red'"},
                                      {"", "it holds none"},
                                      {"circle.", "it reads as 'circle'"}}) {
    try {
      VocabTextEncoder({"a", word}, at::zeros({2, 4}), 4);
      ADD_FAILURE() << "'" << word << "' was taken";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("the vocabulary's word '" + word + "' can never match a prompt"),
                std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find(read_as), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(VocabTextEncoder({"don't", "x-ray", "über", "7"}, at::zeros({4, 4}), 4));
}

TEST(VocabTextEncoder, SplitsWords) {
  EXPECT_EQ(split_prompt_words("Over the SKY, left-right  don't"),
            (std::vector<std::string>{"over", "the", "sky", "left-right", "don't"}));
  // Beyond ASCII: letters stay in their word (an unknown word is then named whole, not "ber"),
  // an emoji is a word, typographic punctuation separates.
  EXPECT_EQ(split_prompt_words("ein roter Kreis über dem Himmel"),
            (std::vector<std::string>{"ein", "roter", "kreis", "über", "dem", "himmel"}));
  EXPECT_EQ(split_prompt_words("a red círcle 🔴"), (std::vector<std::string>{"a", "red", "círcle", "🔴"}));
  EXPECT_EQ(split_prompt_words("“red”\u00a0circle — left…「sky」"),
            (std::vector<std::string>{"red", "circle", "left", "sky"}));
  EXPECT_EQ(split_prompt_words("bad\xff byte"), (std::vector<std::string>{"bad\xff", "byte"}));
}

}  // namespace
}  // namespace svgear
