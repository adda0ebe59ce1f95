#pragma once
// UnigramModel: the Unigram segmentation of a Hugging Face tokenizer.json (what the "fast" T5
// tokenizer Wan uses runs), implemented here so spiece.model is not required. Text is
// pre-tokenised as Metaspace does (spaces become "▁", a "▁" is prepended, the text is split before
// every "▁"); each word is segmented by Viterbi over the vocabulary's log-probability scores.
// Characters no piece covers become <unk> (score min_score - 10, consecutive ones fused), or their
// UTF-8 bytes (<0xNN>) when the model has byte_fallback. As Hugging Face does.
//
// The "Precompiled" normalizer (SentencePiece's NFKC map) runs first when the file has one, then
// runs of spaces collapse to one, as T5's tokenizer.json says. Not done: special tokens written
// literally in the text ("</s>") are not split out.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/text/precompiled_charsmap.h"
#include "core/text/subword_model.h"

namespace svgear {

struct UnigramPiece {
  std::string piece;
  double score = 0.0;
};

class UnigramModel : public SubwordModel {
 public:
  // `matchable[i]` false for pieces never produced from text (special tokens, <unk>);
  // `precompiled_charsmap` the raw normalisation blob, empty for none.
  UnigramModel(std::vector<UnigramPiece> pieces, int64_t unk_id, bool byte_fallback,
               std::vector<bool> matchable, std::string_view precompiled_charsmap = {});

  // Throws UserError naming the file when it is missing, not JSON or not a Unigram tokenizer.
  static std::unique_ptr<UnigramModel> load(const std::filesystem::path& tokenizer_json);

  std::vector<int64_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int vocab_size() const override { return int(pieces_.size()); }

 private:
  // Appends the Viterbi segmentation of one pre-tokenised word.
  void encode_word(std::string_view word, std::vector<int64_t>& ids) const;
  // Whether text can produce `piece` (not a special token, <unk> or empty).
  bool is_matchable(const std::string& piece) const;

  std::vector<UnigramPiece> pieces_;
  // The matchable pieces' ids sorted by (piece, id). The pieces that start with a given prefix are
  // one range of it, narrowed a byte at a time as a word is read: finding every piece at one spot
  // costs the longest piece that matches there, not the longest piece of the vocabulary (one
  // piece of a megabyte made long prompts take hours).
  std::vector<int64_t> sorted_ids_;
  std::vector<int64_t> byte_ids_;  // byte → id of its <0xNN> piece, or -1
  std::optional<PrecompiledCharsmap> charsmap_;
  int64_t unk_id_ = 0;
  bool byte_fallback_ = false;
  double unk_score_ = 0.0;
};

}  // namespace svgear
