#pragma once
// text_head: the start of a text too long to show whole (a 64,000-character pasted prompt echoed in
// the Log, a refusal naming a long path under the model summary), cut between characters.

#include <QString>

namespace svgear {

// `text` when it has at most `max_chars` UTF-16 units; else its first `max_chars` (one fewer where a
// surrogate pair would be split) followed by `tail`.
QString text_head(const QString& text, int max_chars, const QString& tail);

}  // namespace svgear
