#pragma once
// spiece.model through Debian's SentencePiece library (libsentencepiece-dev). Builds without the
// library (the GPU machine) compile sentencepiece_model_unavailable.cpp instead, whose loader
// tells the user to use tokenizer.json.

#include <cstdint>
#include <filesystem>
#include <memory>

#include "core/text/subword_model.h"

namespace svgear {

// umT5's spiece.model is about 4.5 MB; the bound only keeps a wrong file from being read whole.
inline constexpr uintmax_t kMaxSentencePieceBytes = uintmax_t(64) << 20;

// False when this build has no SentencePiece library.
bool sentencepiece_available();

// Throws UserError naming the file when it is missing or not a SentencePiece model.
std::unique_ptr<SubwordModel> load_sentencepiece_model(const std::filesystem::path& path);
// The same from the model's bytes (spiece.model's content), `source` naming where they were in
// messages ("the spiece_model tensor of 'umt5_xxl_fp16.safetensors'").
std::unique_ptr<SubwordModel> load_sentencepiece_model(const std::string& proto, const std::string& source);

}  // namespace svgear
