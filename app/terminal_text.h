#pragma once
// Text from files a user hands over (a model's name, a message quoting a weight file) on its way to
// the terminal: a control character there could be an escape sequence that clears the screen,
// retitles the window or hides the lines before it, so each is shown as '?'.

#include <string>
#include <string_view>

namespace svgear {

// `text` with its control characters (C0, DEL and the C1 range in UTF-8) as '?' and its
// bidirectional embeddings, overrides and isolates as their codes ("[U+202E]", as the studio shows
// them); line breaks and tabs kept where `keep_line_breaks` (a message of several lines), else
// replaced too (a name on one line).
std::string printable(std::string_view text, bool keep_line_breaks = true);

}  // namespace svgear
