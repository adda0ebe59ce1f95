#pragma once
// VocabTextEncoder: a closed-vocabulary encoder. A prompt is lower-cased and split into words
// (letters, digits, '-' and '\''); each word must be in the vocabulary and maps to a row of the
// token embedding table. Unknown words are an error that lists the vocabulary, so the user can fix
// the prompt.

#include <string>
#include <unordered_map>
#include <vector>

#include "core/text/text_encoder.h"

namespace svgear {

class VocabTextEncoder : public TextEncoder {
 public:
  // embedding: [vocabulary.size(), text_dim]; at most max_tokens words per prompt.
  VocabTextEncoder(std::vector<std::string> vocabulary, at::Tensor embedding, int max_tokens);

  at::Tensor encode(std::string_view prompt) const override;
  int text_dim() const override;
  std::vector<std::string> vocabulary() const override { return vocabulary_; }

  // Splits a prompt into lower-case words; exposed for tests and the UI's completion.
  static std::vector<std::string> split_words(std::string_view prompt);

 private:
  std::vector<std::string> vocabulary_;
  std::unordered_map<std::string, int64_t> index_;
  at::Tensor embedding_;  // [V, text_dim] float32
  int max_tokens_ = 0;
};

}  // namespace svgear
