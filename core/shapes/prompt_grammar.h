#pragma once
// The prompt grammar of the shapes world: prompt ⇄ SceneSpec.
//
//   prompt     := object {["," | "and"] object} [("over" | "on") background]   (background may
//                 also come between objects)
//   object     := [article] [size] [colour] shape [motion]
//   motion     := ["moves"] direction | "bounces" | "orbits" | "grows" | "shrinks" | "spins"
//               | ["stays" | "is"] "still"
//   direction  := left | right | up | down | up-left | up-right | down-left | down-right
//                 ("up left" and the like, as two words, mean the diagonal too)
//   background := [article] [colour] ("background" | "stripes" | "checkerboard" | "noise")
//               | [article] ["blue"] "sky" | [article] "sunset"
//
// Words are split by split_prompt_words (core/text/prompt_words.h: lower-cased runs of letters,
// digits, '-' and '\''; punctuation, commas included, and spaces separate words), as the built-in
// model's text encoder splits them, so every accepted word can be a token of its vocabulary. A
// motion word belongs to the shape before it.
// Defaults for what a prompt leaves out: size medium, colour white, motion still, background
// black (a solid "black background"); stripes, checkerboard and noise without a colour are grey.
//
// Canonical form (what canonical_prompt prints and parse_prompt reads back to the same spec):
//   "a medium red circle moves left, a small yellow star spins over a blue sky"

#include <string>
#include <string_view>
#include <vector>

#include "core/shapes/scene.h"
#include "core/user_error.h"

namespace svgear {

struct VocabularyGroup {
  std::string name;                // "shapes", "colours", "sizes", "motions", "backgrounds", "other words"
  std::vector<std::string> words;  // in a fixed, readable order
};

// Every word the grammar accepts, grouped as above (for a GUI's word list and completion).
std::vector<VocabularyGroup> prompt_vocabulary_groups();

// The same words as one list, each once, in group order: the built-in text encoder's vocabulary.
std::vector<std::string> prompt_vocabulary();

// Every word canonical_prompt can print, each once: what a shapes-world model's vocabulary must hold,
// since every prompt reaches its text encoder in that wording.
std::vector<std::string> canonical_words();

// A prompt the grammar cannot read. unknown_words() lists the words outside the vocabulary (empty
// when every word is known but they do not form a scene); the message says what is wrong and, for
// unknown words, lists the vocabulary by group, one group per line.
class PromptError : public UserError {
 public:
  PromptError(const std::string& message, std::vector<std::string> unknown_words)
      : UserError(message), unknown_words_(std::move(unknown_words)) {}
  const std::vector<std::string>& unknown_words() const { return unknown_words_; }

 private:
  std::vector<std::string> unknown_words_;
};

// Throws PromptError.
SceneSpec parse_prompt(std::string_view prompt);

// Spells out every part (size, colour, motion, background), so that
// parse_prompt(canonical_prompt(spec)) == spec for every valid spec whose Sky/Sunset background
// keeps the default colour.
std::string canonical_prompt(const SceneSpec& spec);

}  // namespace svgear
