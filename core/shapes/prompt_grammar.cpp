#include "core/shapes/prompt_grammar.h"

#include <algorithm>
#include <map>
#include <optional>

#include "core/text/nearest_words.h"
#include "core/text/prompt_words.h"

namespace svgear {
namespace {

enum class WordKind { Filler, Shape, Colour, Size, Motion, Background };

struct WordMeaning {
  WordKind kind = WordKind::Filler;
  int value = 0;  // the Shape, Colour, Size, Motion or BackgroundKind
};

// Words with the same meaning as a canonical one.
constexpr std::pair<std::string_view, Colour> kColourAliases[] = {{"gray", Colour::Grey}};

constexpr std::string_view kFillers[] = {"a", "an", "the", "and", "moves", "over", "on", "is", "stays"};

const std::map<std::string, WordMeaning, std::less<>>& word_meanings() {
  static const auto* meanings = [] {
    auto* m = new std::map<std::string, WordMeaning, std::less<>>;
    for (int i = 0; i < kShapeCount; ++i) (*m)[std::string(shape_name(Shape(i)))] = {WordKind::Shape, i};
    for (int i = 0; i < kColourCount; ++i) (*m)[std::string(colour_name(Colour(i)))] = {WordKind::Colour, i};
    for (auto [word, colour] : kColourAliases) (*m)[std::string(word)] = {WordKind::Colour, int(colour)};
    for (int i = 0; i < kSizeCount; ++i) (*m)[std::string(size_name(Size(i)))] = {WordKind::Size, i};
    for (int i = 0; i < kMotionCount; ++i) (*m)[std::string(motion_name(Motion(i)))] = {WordKind::Motion, i};
    for (int i = 0; i < kBackgroundKindCount; ++i) {
      (*m)[std::string(background_kind_name(BackgroundKind(i)))] = {WordKind::Background, i};
    }
    for (std::string_view word : kFillers) (*m)[std::string(word)] = {WordKind::Filler, 0};
    return m;
  }();
  return *meanings;
}

std::string vocabulary_listing() {
  std::string out = "The shapes world knows these words:";
  for (const VocabularyGroup& group : prompt_vocabulary_groups()) {
    out += "\n  " + group.name + ":";
    for (const std::string& word : group.words) out += " " + word;
  }
  return out;
}

[[noreturn]] void fail(const std::string& message) {
  throw PromptError(
      message + ". Example: \"a small red circle moves left, a yellow star spins over a blue sky\"", {});
}

std::string object_name(const SceneObject& object) {
  return std::string(colour_name(object.colour)) + " " + std::string(shape_name(object.shape));
}

// "up" then "left" (two words) mean "up-left".
std::optional<Motion> combined_diagonal(Motion vertical, Motion horizontal) {
  if (vertical == Motion::Up && horizontal == Motion::Left) return Motion::UpLeft;
  if (vertical == Motion::Up && horizontal == Motion::Right) return Motion::UpRight;
  if (vertical == Motion::Down && horizontal == Motion::Left) return Motion::DownLeft;
  if (vertical == Motion::Down && horizontal == Motion::Right) return Motion::DownRight;
  return std::nullopt;
}

std::string_view article_for(std::string_view next_word) {
  return std::string_view("aeiou").find(next_word.front()) != std::string_view::npos ? "an" : "a";
}

}  // namespace

std::vector<VocabularyGroup> prompt_vocabulary_groups() {
  std::vector<VocabularyGroup> groups = {{"shapes", {}},  {"colours", {}},     {"sizes", {}},
                                         {"motions", {}}, {"backgrounds", {}}, {"other words", {}}};
  for (int i = 0; i < kShapeCount; ++i) groups[0].words.emplace_back(shape_name(Shape(i)));
  for (int i = 0; i < kColourCount; ++i) groups[1].words.emplace_back(colour_name(Colour(i)));
  for (auto [word, colour] : kColourAliases) groups[1].words.emplace_back(word);
  for (int i = 0; i < kSizeCount; ++i) groups[2].words.emplace_back(size_name(Size(i)));
  for (int i = 0; i < kMotionCount; ++i) groups[3].words.emplace_back(motion_name(Motion(i)));
  for (int i = 0; i < kBackgroundKindCount; ++i) {
    groups[4].words.emplace_back(background_kind_name(BackgroundKind(i)));
  }
  for (std::string_view word : kFillers) groups[5].words.emplace_back(word);
  return groups;
}

std::vector<std::string> prompt_vocabulary() {
  std::vector<std::string> words;
  for (const VocabularyGroup& group : prompt_vocabulary_groups()) {
    words.insert(words.end(), group.words.begin(), group.words.end());
  }
  return words;
}

SceneSpec parse_prompt(std::string_view prompt) {
  const std::vector<std::string> words = split_prompt_words(prompt);
  const auto& meanings = word_meanings();

  std::vector<std::string> unknown;
  for (const std::string& word : words) {
    if (meanings.find(word) == meanings.end() &&
        std::find(unknown.begin(), unknown.end(), word) == unknown.end()) {
      unknown.push_back(word);
    }
  }
  if (!unknown.empty()) {
    std::string list;
    for (const std::string& word : unknown) list += (list.empty() ? "" : ", ") + quoted_word(word);
    throw PromptError("unknown word" + std::string(unknown.size() > 1 ? "s " : " ") + list + " in the prompt" +
                          did_you_mean(unknown, prompt_vocabulary()) + ". " + vocabulary_listing(),
                      unknown);
  }

  SceneSpec spec;
  std::vector<bool> motion_given;
  bool background_given = false;
  // Adjectives waiting for their noun; an empty word means none is waiting.
  Size pending_size = Size::Medium;
  Colour pending_colour = Colour::White;
  std::string pending_size_word;
  std::string pending_colour_word;
  std::string previous_word;

  for (const std::string& word : words) {
    const WordMeaning meaning = meanings.find(word)->second;
    switch (meaning.kind) {
      case WordKind::Filler: break;
      case WordKind::Size:
        if (!pending_size_word.empty())
          fail("two sizes, " + quoted_word(pending_size_word) + " and " + quoted_word(word) + ", for one shape");
        pending_size = Size(meaning.value);
        pending_size_word = word;
        break;
      case WordKind::Colour:
        if (!pending_colour_word.empty())
          fail("two colours, " + quoted_word(pending_colour_word) + " and " + quoted_word(word) + ", for one shape");
        pending_colour = Colour(meaning.value);
        pending_colour_word = word;
        break;
      case WordKind::Shape: {
        if (int(spec.objects.size()) == kMaxSceneObjects) {
          fail("more than " + std::to_string(kMaxSceneObjects) + " shapes: a scene holds at most " +
               std::to_string(kMaxSceneObjects));
        }
        SceneObject object;
        object.shape = Shape(meaning.value);
        object.size = pending_size_word.empty() ? Size::Medium : pending_size;
        object.colour = pending_colour_word.empty() ? Colour::White : pending_colour;
        spec.objects.push_back(object);
        motion_given.push_back(false);
        pending_size_word.clear();
        pending_colour_word.clear();
        break;
      }
      case WordKind::Background: {
        const auto kind = BackgroundKind(meaning.value);
        // "a checkerboard background" names one background, as people say it (it had been refused
        // as two): "background" right after a pattern or sky reads as part of its name.
        const auto after = meanings.find(previous_word);
        if (kind == BackgroundKind::Solid && after != meanings.end() && after->second.kind == WordKind::Background &&
            BackgroundKind(after->second.value) != BackgroundKind::Solid) {
          break;
        }
        if (background_given) fail("two backgrounds; a scene has one (the second is " + quoted_word(word) + ")");
        if (!pending_size_word.empty())
          fail(quoted_word(pending_size_word) + " describes a shape, not the background " + quoted_word(word));
        Background background;
        background.kind = kind;
        if (kind == BackgroundKind::Sky) {
          if (!pending_colour_word.empty() && pending_colour != Colour::Blue) {
            fail("the sky is always blue, not " + quoted_word(pending_colour_word) + "; try \"a sunset\" or \"a " +
                 pending_colour_word + " background\"");
          }
        } else if (kind == BackgroundKind::Sunset) {
          if (!pending_colour_word.empty())
            fail("a sunset has its own colours; drop " + quoted_word(pending_colour_word));
        } else if (kind == BackgroundKind::Solid) {
          background.colour = pending_colour_word.empty() ? Colour::Black : pending_colour;
        } else {
          background.colour = pending_colour_word.empty() ? Colour::Grey : pending_colour;
        }
        spec.background = background;
        background_given = true;
        pending_colour_word.clear();
        break;
      }
      case WordKind::Motion: {
        const auto motion = Motion(meaning.value);
        if (!pending_colour_word.empty() || !pending_size_word.empty()) {
          fail(quoted_word(pending_colour_word.empty() ? pending_size_word : pending_colour_word) +
               " is not followed by a shape or a background");
        }
        if (spec.objects.empty()) {
          fail(quoted_word(word) + " comes before any shape: name the shape first, e.g. \"a red circle moves " +
               word + "\"");
        }
        SceneObject& object = spec.objects.back();
        if (motion_given.back()) {
          const auto diagonal = combined_diagonal(object.motion, motion);
          if (!diagonal || previous_word != motion_name(object.motion)) {
            fail("two motions for the " + object_name(object) + ", " + quoted_word(motion_name(object.motion)) +
                 " and " + quoted_word(word) + "; a shape has one");
          }
          object.motion = *diagonal;
        } else {
          object.motion = motion;
          motion_given.back() = true;
        }
        break;
      }
    }
    previous_word = word;
  }
  if (!pending_colour_word.empty() || !pending_size_word.empty()) {
    fail(quoted_word(pending_colour_word.empty() ? pending_size_word : pending_colour_word) +
         " at the end is not followed by a shape or a background");
  }
  if (spec.objects.empty()) fail("the prompt names no shape");
  return spec;
}

std::string canonical_prompt(const SceneSpec& spec) {
  std::string prompt;
  for (const SceneObject& object : spec.objects) {
    if (!prompt.empty()) prompt += ", ";
    prompt += "a " + std::string(size_name(object.size)) + " " + object_name(object) + " ";
    switch (object.motion) {
      case Motion::Still: prompt += "stays still"; break;
      case Motion::Left:
      case Motion::Right:
      case Motion::Up:
      case Motion::Down:
      case Motion::UpLeft:
      case Motion::UpRight:
      case Motion::DownLeft:
      case Motion::DownRight: prompt += "moves " + std::string(motion_name(object.motion)); break;
      default: prompt += motion_name(object.motion); break;
    }
  }
  const std::string colour(colour_name(spec.background.colour));
  prompt += " over ";
  switch (spec.background.kind) {
    case BackgroundKind::Solid:
      prompt += std::string(article_for(colour)) + " " + colour + " background";
      break;
    case BackgroundKind::Sky: prompt += "a blue sky"; break;
    case BackgroundKind::Sunset: prompt += "a sunset"; break;
    case BackgroundKind::Stripes: prompt += colour + " stripes"; break;
    case BackgroundKind::Checker:
      prompt += std::string(article_for(colour)) + " " + colour + " checkerboard";
      break;
    case BackgroundKind::Noise: prompt += colour + " noise"; break;
  }
  return prompt;
}

std::vector<std::string> canonical_words() {
  // Each word of the wording depends on one value of the scene at a time, so one scene per value of
  // each field prints them all.
  std::vector<SceneSpec> scenes;
  const auto with_object = [&](auto set) {
    SceneSpec spec;
    spec.objects.emplace_back();
    set(spec.objects.back());
    scenes.push_back(spec);
  };
  for (int i = 0; i < kShapeCount; ++i) with_object([&](SceneObject& o) { o.shape = Shape(i); });
  for (int i = 0; i < kColourCount; ++i) with_object([&](SceneObject& o) { o.colour = Colour(i); });
  for (int i = 0; i < kSizeCount; ++i) with_object([&](SceneObject& o) { o.size = Size(i); });
  for (int i = 0; i < kMotionCount; ++i) with_object([&](SceneObject& o) { o.motion = Motion(i); });
  for (int kind = 0; kind < kBackgroundKindCount; ++kind) {
    for (int colour = 0; colour < kColourCount; ++colour) {
      SceneSpec spec;
      spec.objects.emplace_back();
      spec.background = {BackgroundKind(kind), Colour(colour)};
      scenes.push_back(spec);
    }
  }
  std::vector<std::string> words;
  for (const SceneSpec& spec : scenes) {
    for (std::string& word : split_prompt_words(canonical_prompt(spec))) {
      if (std::find(words.begin(), words.end(), word) == words.end()) words.push_back(std::move(word));
    }
  }
  return words;
}

}  // namespace svgear
