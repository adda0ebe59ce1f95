#pragma once
// "Did you mean": the accepted words nearest a mistyped one, for prompts (a word the vocabulary
// lacks) and for the CLI's options.

#include <string>
#include <string_view>
#include <vector>

namespace svgear {

// Edits from `a` to `b`, byte by byte: insertions, deletions, substitutions and swaps of neighbours
// ("lfet" is one from "left").
size_t edit_distance(std::string_view a, std::string_view b);

// The candidates nearest `typed` when a typo or two away (at most one edit below 8 bytes, two from
// 8 on; none below 3, where one edit reaches most short words), every one at the nearest distance, in the
// candidates' order; empty when none is that near or `typed` is itself a candidate. Distances are
// taken from ascii_look_alike(typed), so an accented or look-alike spelling ("círcle", "rеd" with a
// Cyrillic е) names the word it looks like.
std::vector<std::string> nearest_words(std::string_view typed, const std::vector<std::string>& candidates);

// "a", "a or b", "a, b or c", each item between `before` and `after` ("'ring' or 'king'",
// "--mode or --model").
std::string alternatives(const std::vector<std::string>& items, std::string_view before, std::string_view after);

// "did you mean 'balanced'? " when `typed` is a typo of one of `names`, else "": for a message that
// lists the choices next ("(did you mean 'svgear'? choose dense, svg2 or svgear)").
std::string typo_hint(std::string_view typed, const std::vector<std::string>& names);

// " (did you mean 'circle'?)" for one unknown word with a near vocabulary word, " (did you mean
// 'circle' for 'cirle', 'left' for 'lfet'?)" for several (those without one left out), "" when
// none has one. Each suggestion names every word at the nearest distance ("'ring' or 'king'").
std::string did_you_mean(const std::vector<std::string>& unknown, const std::vector<std::string>& vocabulary);

}  // namespace svgear
