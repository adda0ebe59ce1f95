#pragma once
// SubwordModel: text ↔ ids of a SentencePiece-style vocabulary (pieces with "▁" marking a word
// start), without special tokens. Umt5Tokenizer adds EOS, truncation and padding on top.
// Implementations: SentencePiece's own library reading spiece.model (sentencepiece_model.h) and
// our Unigram segmenter reading a Hugging Face tokenizer.json (unigram_model.h).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace svgear {

class SubwordModel {
 public:
  virtual ~SubwordModel() = default;
  virtual std::vector<int64_t> encode(std::string_view text) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int vocab_size() const = 0;
};

}  // namespace svgear
