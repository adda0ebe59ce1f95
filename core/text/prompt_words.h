#pragma once
// split_prompt_words: a prompt as the lower-cased words every closed-vocabulary reader sees (the
// built-in models' text encoder, the shapes-world grammar, the studio's completion and examples).
// A word is a run of ASCII letters, digits, '-' and '\'' (lower-cased) and of characters beyond
// ASCII other than punctuation and spaces, so "über" and "círcle" stay one word and an emoji is a
// word of its own; ASCII punctuation, typographic quotes, dashes and spaces separate words. A byte
// that is not UTF-8 stays in its word, so a message about the word shows it.

#include <string>
#include <string_view>
#include <vector>

namespace svgear {

std::vector<std::string> split_prompt_words(std::string_view prompt);

}  // namespace svgear
