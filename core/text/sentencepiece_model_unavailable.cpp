// Built instead of sentencepiece_model.cpp when CMake finds no SentencePiece library.

#include "core/text/sentencepiece_model.h"

#include "core/user_error.h"

namespace svgear {

bool sentencepiece_available() { return false; }

std::unique_ptr<SubwordModel> load_sentencepiece_model(const std::filesystem::path& path) {
  throw UserError("this build cannot read '" + path.string() +
                  "': it was built without SentencePiece. Put the tokenizer.json of "
                  "google/umt5-xxl beside it, or rebuild after installing libsentencepiece-dev.");
}

std::unique_ptr<SubwordModel> load_sentencepiece_model(const std::string&, const std::string& source) {
  throw UserError("this build cannot read the SentencePiece tokenizer in " + source +
                  ": it was built without SentencePiece. Put the tokenizer.json of google/umt5-xxl in the "
                  "model folder, or rebuild after installing libsentencepiece-dev.");
}

}  // namespace svgear
