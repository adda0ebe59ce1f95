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
  // The closed vocabulary, for completion in the UI; empty for open-vocabulary encoders.
  virtual std::vector<std::string> vocabulary() const { return {}; }
};

}  // namespace svgear
