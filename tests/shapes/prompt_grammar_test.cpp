#include "core/shapes/prompt_grammar.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "core/shapes/seeded_random.h"
#include "core/text/prompt_words.h"

namespace svgear {
namespace {

// The message of the PromptError that parsing `prompt` throws ("" when it parses).
std::string error_of(const std::string& prompt) {
  try {
    parse_prompt(prompt);
  } catch (const PromptError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Any valid spec, including what the sampler avoids (spinning circles, repeated colours).
SceneSpec random_spec(SeededRandom& random) {
  SceneSpec spec;
  const int count = 1 + random.index(kMaxSceneObjects);
  for (int i = 0; i < count; ++i) {
    spec.objects.push_back({Shape(random.index(kShapeCount)), Colour(random.index(kColourCount)),
                            Size(random.index(kSizeCount)), Motion(random.index(kMotionCount))});
  }
  spec.background.kind = BackgroundKind(random.index(kBackgroundKindCount));
  if (spec.background.kind != BackgroundKind::Sky && spec.background.kind != BackgroundKind::Sunset) {
    spec.background.colour = Colour(random.index(kColourCount));
  }
  return spec;
}

TEST(PromptGrammar, ParsesTheIssueExample) {
  const SceneSpec spec = parse_prompt("a red circle moves left over a blue sky, a small yellow star spins");
  ASSERT_EQ(spec.objects.size(), 2u);
  EXPECT_EQ(spec.objects[0], (SceneObject{Shape::Circle, Colour::Red, Size::Medium, Motion::Left}));
  EXPECT_EQ(spec.objects[1], (SceneObject{Shape::Star, Colour::Yellow, Size::Small, Motion::Spin}));
  EXPECT_EQ(spec.background.kind, BackgroundKind::Sky);
  EXPECT_EQ(canonical_prompt(spec),
            "a medium red circle moves left, a small yellow star spins over a blue sky");
}

TEST(PromptGrammar, FillsInDefaults) {
  const SceneSpec spec = parse_prompt("a circle");
  ASSERT_EQ(spec.objects.size(), 1u);
  EXPECT_EQ(spec.objects[0], (SceneObject{Shape::Circle, Colour::White, Size::Medium, Motion::Still}));
  EXPECT_EQ(spec.background, (Background{BackgroundKind::Solid, Colour::Black}));
  EXPECT_EQ(parse_prompt("a star over stripes").background,
            (Background{BackgroundKind::Stripes, Colour::Grey}));
  EXPECT_EQ(parse_prompt("a star on the sky").background.kind, BackgroundKind::Sky);
}

TEST(PromptGrammar, AcceptsCaseCommasFillersAliasesAndTwoWordDiagonals) {
  const SceneSpec spec = parse_prompt(
      "The LARGE orange heart moves up left,, and a gray ring is still on an Orange checkerboard");
  ASSERT_EQ(spec.objects.size(), 2u);
  EXPECT_EQ(spec.objects[0], (SceneObject{Shape::Heart, Colour::Orange, Size::Large, Motion::UpLeft}));
  EXPECT_EQ(spec.objects[1], (SceneObject{Shape::Ring, Colour::Grey, Size::Medium, Motion::Still}));
  EXPECT_EQ(spec.background, (Background{BackgroundKind::Checker, Colour::Orange}));
  EXPECT_EQ(canonical_prompt(spec),
            "a large orange heart moves up-left, a medium grey ring stays still over an orange checkerboard");
  // Without commas the words alone separate objects, as the text encoder sees them.
  EXPECT_EQ(parse_prompt("a red square bounces a blue star orbits").objects.size(), 2u);
}

TEST(PromptGrammar, CanonicalPromptsParseBackToTheSameScene) {
  SeededRandom random(2024);
  for (int i = 0; i < 5000; ++i) {
    const SceneSpec spec = random_spec(random);
    const std::string prompt = canonical_prompt(spec);
    ASSERT_EQ(parse_prompt(prompt), spec) << prompt;
    ASSERT_EQ(canonical_prompt(parse_prompt(prompt)), prompt);
  }
}

TEST(PromptGrammar, UnknownWordsAreNamedAndTheVocabularyListedByGroup) {
  try {
    parse_prompt("a red cirle moves lfet, a red cirle");
    FAIL() << "no error";
  } catch (const PromptError& e) {
    EXPECT_EQ(e.unknown_words(), (std::vector<std::string>{"cirle", "lfet"}));
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "unknown words 'cirle', 'lfet' in the prompt (did you mean 'circle' for 'cirle', "
                                  "'left' for 'lfet'?). The shapes world knows")) << message;
    EXPECT_TRUE(contains(message, "\n  shapes: circle square triangle star ring diamond cross heart"))
        << message;
    EXPECT_TRUE(contains(message, "\n  colours: red green blue")) << message;
    EXPECT_TRUE(contains(message, "\n  sizes: small medium large")) << message;
    EXPECT_TRUE(contains(message, "\n  motions: still left right up down up-left")) << message;
    EXPECT_TRUE(contains(message, "\n  backgrounds: background sky sunset stripes checkerboard noise"))
        << message;
    EXPECT_TRUE(contains(message, "\n  other words: a an the")) << message;
  }
  EXPECT_TRUE(contains(error_of("a big circle"), "unknown word 'big' in the prompt. The shapes world"));  // nothing near
  // A word beyond ASCII is named whole.
  EXPECT_TRUE(contains(error_of("a red círcle"), "unknown word 'círcle' in the prompt"));
}

// "background" after a pattern or the sky names that background, as people write it ("a green star
// on a checkerboard background" had been refused as two backgrounds); after another background, or
// alone after a colour, it is still a background of its own.
TEST(PromptGrammar, APatternsBackgroundIsOneBackground) {
  for (const char* named : {"checkerboard", "stripes", "noise", "sky", "sunset"}) {
    const std::string plain = std::string("a green star spins over a ") + named;
    EXPECT_EQ(canonical_prompt(parse_prompt(plain + " background")), canonical_prompt(parse_prompt(plain))) << named;
  }
  EXPECT_EQ(parse_prompt("a circle on a red checkerboard background").background.colour, Colour::Red);
  EXPECT_TRUE(contains(error_of("a circle over a red background background"), "two backgrounds"));
  EXPECT_TRUE(contains(error_of("a circle over a sky and a red background"), "two backgrounds"));
}

TEST(PromptGrammar, MisplacedWordsSayWhatIsWrong) {
  EXPECT_TRUE(contains(error_of("moves left"), "'left' comes before any shape"));
  EXPECT_TRUE(contains(error_of("a red blue circle"), "two colours, 'red' and 'blue'"));
  EXPECT_TRUE(contains(error_of("a small large circle"), "two sizes"));
  EXPECT_TRUE(contains(error_of("a circle moves left right"), "two motions for the white circle"));
  EXPECT_TRUE(contains(error_of("a circle moves up-left right"), "two motions"));
  EXPECT_TRUE(contains(error_of("a circle, a square, a star, a heart"), "at most 3"));
  EXPECT_TRUE(contains(error_of("a circle over a red sky"), "the sky is always blue"));
  EXPECT_TRUE(contains(error_of("a circle over a blue sky over a sunset"), "two backgrounds"));
  EXPECT_TRUE(contains(error_of("a circle over a red"), "'red' at the end"));
  EXPECT_TRUE(contains(error_of("a red moves left"), "'red' is not followed by a shape"));
  EXPECT_TRUE(contains(error_of("over a blue sky"), "names no shape"));
  EXPECT_TRUE(contains(error_of(""), "names no shape"));
  EXPECT_TRUE(contains(error_of("a large sky"), "'large' describes a shape"));
}

TEST(PromptGrammar, VocabularyIsTheTextEncodersWordsEachOnce) {
  const std::vector<std::string> words = prompt_vocabulary();
  EXPECT_EQ(std::set<std::string>(words.begin(), words.end()).size(), words.size());
  for (const std::string& word : words) {
    // Each word is one word as split_prompt_words splits it, as the text encoder does.
    EXPECT_EQ(split_prompt_words(word), std::vector<std::string>{word});
  }
  size_t grouped = 0;
  for (const VocabularyGroup& group : prompt_vocabulary_groups()) {
    EXPECT_FALSE(group.words.empty()) << group.name;
    grouped += group.words.size();
  }
  EXPECT_EQ(grouped, words.size());
  // Every word of every canonical prompt is in the vocabulary.
  SeededRandom random(7);
  for (int i = 0; i < 500; ++i) {
    for (const std::string& word : split_prompt_words(canonical_prompt(random_spec(random)))) {
      EXPECT_NE(std::find(words.begin(), words.end(), word), words.end()) << word;
    }
  }
}

TEST(PromptGrammar, SplitsWordsLikeTheTextEncoder) {
  EXPECT_EQ(split_prompt_words("A Red-ish, circle's  UP-LEFT!"),
            (std::vector<std::string>{"a", "red-ish", "circle's", "up-left"}));
}

}  // namespace
}  // namespace svgear
