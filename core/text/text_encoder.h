#pragma once
// TextEncoder: prompt → conditioning context for the DiT's cross-attention.

#include <string>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>

namespace svgear {

class TextEncoder {
 public:
  virtual ~TextEncoder() = default;
  // [L, text_dim] float32 on the CPU; L may be 0 (an empty prompt is the unconditional context).
  // Throws UserError for prompts the encoder cannot represent.
  virtual at::Tensor encode(std::string_view prompt) const = 0;
  virtual int text_dim() const = 0;
  // What of the prompt the encoder ignores, for the user ("" when it reads all of it), e.g. 'the text
  // encoder reads its first 511 tokens and ignores the last 40, from "a red…"'.
  virtual std::string truncation_note(std::string_view) const { return {}; }
  // The closed vocabulary, for completion in the UI; empty for open-vocabulary encoders.
  virtual std::vector<std::string> vocabulary() const { return {}; }
};

}  // namespace svgear
