#pragma once
// ShapesPromptEncoder: the text side of a shapes-world model. A prompt is read by the shapes world's
// grammar and re-written in its canonical form before the token table sees it, so word order,
// omitted defaults and synonyms the grammar accepts reach the model as the exact wording it was
// trained on (training prompts are canonical). A prompt the grammar cannot read fails with the
// grammar's message, which lists the vocabulary by group. The empty prompt (the unconditional
// context) passes through.

#include <memory>
#include <string>
#include <string_view>

#include "core/text/text_encoder.h"

namespace svgear {

class ShapesPromptEncoder : public TextEncoder {
 public:
  explicit ShapesPromptEncoder(std::unique_ptr<TextEncoder> tokens) : tokens_(std::move(tokens)) {}

  at::Tensor encode(std::string_view prompt) const override;
  int text_dim() const override { return tokens_->text_dim(); }
  std::vector<std::string> vocabulary() const override { return tokens_->vocabulary(); }

  // What the token table reads for `prompt`: its canonical form, or a blank prompt as it is.
  // Throws the grammar's UserError for a prompt it cannot read.
  static std::string token_text(std::string_view prompt);

 private:
  std::unique_ptr<TextEncoder> tokens_;
};

}  // namespace svgear
