#include "core/text/shapes_prompt_encoder.h"

#include <algorithm>
#include <cctype>

#include "core/shapes/prompt_grammar.h"

namespace svgear {

std::string ShapesPromptEncoder::token_text(std::string_view prompt) {
  const bool blank = std::all_of(prompt.begin(), prompt.end(), [](unsigned char c) { return std::isspace(c); });
  return blank ? std::string(prompt) : canonical_prompt(parse_prompt(prompt));
}

at::Tensor ShapesPromptEncoder::encode(std::string_view prompt) const { return tokens_->encode(token_text(prompt)); }

}  // namespace svgear
