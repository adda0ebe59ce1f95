#pragma once
// Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) in a prompt or a
// file name reorder the rest of the line that shows it ("a\u202Eb" showed the line's end
// backwards). Where the studio shows such text rather than edits it (the Log, the prompt history,
// the library), they appear as their codes, "[U+202E]".

#include <QString>

namespace svgear {

QString bidi_controls_shown(const QString& text);

}  // namespace svgear
