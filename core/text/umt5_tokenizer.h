#pragma once
// Umt5Tokenizer: a prompt → the ids and mask Wan's umT5 encoder reads, as upstream's
// HuggingfaceTokenizer(google/umt5-xxl, seq_len 512, clean='whitespace') produces them: the prompt
// cleaned as upstream cleans it (core/text/prompt_cleaning.h: ftfy's fixes, HTML unescaping,
// whitespace), pieces, EOS (</s>, id 1) appended, truncated to text_len with the EOS kept last,
// padded with <pad> (id 0); mask 1 for real tokens. Both model files (spiece.model, tokenizer.json)
// go through the same cleaning.
//
//   Umt5Tokenizer tok = Umt5Tokenizer::load(model_folder);   // spiece.model or tokenizer.json
//   Umt5Tokens t = tok.encode("a cat walks on the grass");     // ids, mask [1, 512]; length 7

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/text/subword_model.h"

namespace svgear {

struct Umt5Tokens {
  at::Tensor ids;  // [1, text_len] int64
  at::Tensor mask;  // [1, text_len] int64, 1 = token
  int64_t length = 0;  // real tokens, EOS included
};

class Umt5Tokenizer {
 public:
  static constexpr int64_t kPadId = 0;
  static constexpr int64_t kEosId = 1;
  static constexpr int kTextLen = 512;  // Wan's text_len

  Umt5Tokenizer(std::shared_ptr<const SubwordModel> model, std::filesystem::path source,
                int text_len = kTextLen);

  // `path` is spiece.model, tokenizer.json, or a folder holding either (also in its tokenizer/ or
  // google/umt5-xxl/ subfolder, the Diffusers and Wan layouts); spiece.model is preferred. Else the
  // spiece_model tensor of one of `text_encoder_files` (ComfyUI's umT5 files carry the tokenizer
  // so). Throws UserError listing every place looked at when none is there.
  static Umt5Tokenizer load(const std::filesystem::path& path, int text_len = kTextLen,
                            const std::vector<std::filesystem::path>& text_encoder_files = {});
  // The file load() reads for the same arguments (spiece.model, tokenizer.json, or the text encoder
  // file holding the spiece_model tensor), found without reading it; throws as load() does.
  static std::filesystem::path locate(const std::filesystem::path& path,
                                      const std::vector<std::filesystem::path>& text_encoder_files = {});

  // Ids of the cleaned prompt with EOS, at most text_len of them.
  std::vector<int64_t> tokenize(std::string_view prompt) const;
  // What tokenize() cuts to fit text_len: the count of pieces past the first text_len − 1 and the
  // cleaned prompt's text from the word where they begin; {0, ""} when the prompt fits. Upstream cuts
  // silently; callers tell the user.
  struct Cut {
    int64_t pieces = 0;
    std::string text;
  };
  Cut cut(std::string_view prompt) const;
  Umt5Tokens encode(std::string_view prompt) const;
  std::string decode(const std::vector<int64_t>& ids) const;

  int vocab_size() const { return model_->vocab_size(); }
  int text_len() const { return text_len_; }
  // Pieces kept before the EOS: Hugging Face truncation keeps room for the EOS it appends.
  int64_t max_pieces() const { return text_len_ - 1; }
  const std::filesystem::path& source() const { return source_; }

 private:
  std::shared_ptr<const SubwordModel> model_;
  std::filesystem::path source_;
  int text_len_ = kTextLen;
};

}  // namespace svgear
