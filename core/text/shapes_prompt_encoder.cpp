#include "core/text/shapes_prompt_encoder.h"

#include <algorithm>
#include <cctype>

#include "core/shapes/prompt_grammar.h"

namespace svgear {

at::Tensor ShapesPromptEncoder::encode(std::string_view prompt) const {
  const bool blank = std::all_of(prompt.begin(), prompt.end(), [](unsigned char c) { return std::isspace(c); });
  if (blank) return tokens_->encode(prompt);
  return tokens_->encode(canonical_prompt(parse_prompt(prompt)));
}

}  // namespace svgear
