#pragma once
// ascii_look_alike: a word as the plain ASCII letters it looks like, lower-cased — "Círcle" →
// "circle", "GRÖSSE" → "grosse", "rеd" with a Cyrillic е → "red", fullwidth "ｒｅｄ" → "red" — so
// "did you mean" can name the vocabulary word an accent, another alphabet's look-alike letter or
// an input method put out of reach. Latin-1 and Latin Extended-A letters lose their marks (æ → ae,
// ß → ss), Cyrillic and Greek letters drawn like Latin ones become them, fullwidth ASCII becomes
// ASCII; every other character (and a byte that is not UTF-8) is kept as it is.

#include <string>
#include <string_view>

namespace svgear {

std::string ascii_look_alike(std::string_view word);

// The letters of `word` that ascii_look_alike() reads as Latin ones and a reader cannot tell from
// them — Cyrillic and Greek — each once, by code point and script: "U+0435 is Cyrillic",
// "U+0421 is Cyrillic, U+03BF is Greek"; "" when it has none (accents and fullwidth letters show).
std::string hidden_look_alikes(std::string_view word);

}  // namespace svgear
