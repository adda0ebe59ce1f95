#pragma once
// VocabTextEncoder: a closed-vocabulary encoder. A prompt is lower-cased and split into words
// (letters, digits, '-' and '\''); each word must be in the vocabulary and maps to a row of the
// token embedding table. Unknown words are an error that lists the vocabulary, so the user can fix
// the prompt. The words' embeddings then go through the encoder's small transformer when the model
// has one (prompt_transformer.h: positions and self-attention, so word order reaches the DiT).

#include <string>
#include <unordered_map>
#include <vector>

#include "core/text/prompt_transformer.h"
#include "core/text/text_encoder.h"

namespace svgear {

class VocabTextEncoder : public TextEncoder {
 public:
  // embedding: [vocabulary.size(), text_dim]; at most max_tokens words per prompt; transformer:
  // float32, empty for a token table alone.
  VocabTextEncoder(std::vector<std::string> vocabulary, at::Tensor embedding, int max_tokens,
                   PromptTransformerWeights transformer = {});

  at::Tensor encode(std::string_view prompt) const override;
  int text_dim() const override;
  std::vector<std::string> vocabulary() const override { return vocabulary_; }

  // Throws UserError for a vocabulary with a word no prompt can match ("", "a red", "Red") or a word
  // twice: the constructor's check, which ModelManifest runs before the weights load, so that
  // `svgear info` and a prompt check see the broken model.json, not an "unknown word".
  static void check_vocabulary(const std::vector<std::string>& vocabulary);

  // Throws the UserError encode would for `prompt` (words outside `vocabulary`, more than
  // `max_tokens` words) without the weights: GenerationRequest::resolve checks prompts with it
  // before a model loads.
  static void check_prompt(const std::vector<std::string>& vocabulary, int max_tokens, std::string_view prompt);

 private:
  // The ids of `prompt`'s words, or the UserError naming the unknown ones and listing `vocabulary`.
  static std::vector<int64_t> word_ids(const std::unordered_map<std::string, int64_t>& index,
                                       const std::vector<std::string>& vocabulary, int max_tokens,
                                       std::string_view prompt);

  std::vector<std::string> vocabulary_;
  std::unordered_map<std::string, int64_t> index_;
  at::Tensor embedding_;  // [V, text_dim] float32
  PromptTransformerWeights transformer_;
  int max_tokens_ = 0;
};

}  // namespace svgear
