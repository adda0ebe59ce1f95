#pragma once
// tooltip_lines: a tooltip's text broken into lines a screen holds. Qt shows a plain-text tooltip on
// one line per line of its text: one as wide as a 3,000-character path is not shown at all.

#include <QString>

namespace svgear {

// `text` with a line break after a space or '/' once a line has 3/4 of `width` characters, or at
// `width` inside a longer run (never between a surrogate pair's halves). Only breaks are added:
// removing the '\n's the text had not gives `text` back.
QString tooltip_lines(const QString& text, int width = 100);

}  // namespace svgear
