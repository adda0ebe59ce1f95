#pragma once
// Prompts to start from, for the Prompt panel's Examples menu. A closed-vocabulary model (the
// built-in shapes models) gets scenes of the shapes world — its training distribution, so prompts
// it draws well — drawn afresh each time the menu opens, keeping those whose every word it knows;
// an open-vocabulary one (Wan) gets resources/prompts/wan.txt, built into the studio.

#include <functional>

#include <QStringList>

namespace svgear {

using PromptExamples = std::function<QStringList()>;

inline constexpr int kPromptExampleCount = 8;

// For a model with this vocabulary (empty: open vocabulary). Returns an empty function when the
// vocabulary cannot spell any scene of the shapes world: there is nothing to offer.
PromptExamples prompt_examples_for(const QStringList& vocabulary);

}  // namespace svgear
