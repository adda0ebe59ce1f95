#include "core/text/sentencepiece_model.h"

#include <sentencepiece_processor.h>

#include "core/user_error.h"

namespace svgear {
namespace {

class SentencePieceModel : public SubwordModel {
 public:
  explicit SentencePieceModel(const std::filesystem::path& path) {
    const auto status = processor_.Load(path.string());
    if (!status.ok()) {
      throw UserError("cannot read the SentencePiece tokenizer '" + path.string() + "': " +
                      status.ToString() + ". Download spiece.model of google/umt5-xxl again.");
    }
  }

  std::vector<int64_t> encode(std::string_view text) const override {
    std::vector<int> ids;
    const auto status = processor_.Encode(text, &ids);
    if (!status.ok())
      throw UserError("SentencePiece could not encode the prompt: " + status.ToString());
    return {ids.begin(), ids.end()};
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string text;
    const auto status = processor_.Decode(std::vector<int>(ids.begin(), ids.end()), &text);
    if (!status.ok()) throw UserError("SentencePiece could not decode ids: " + status.ToString());
    return text;
  }

  int vocab_size() const override { return processor_.GetPieceSize(); }

 private:
  sentencepiece::SentencePieceProcessor processor_;
};

}  // namespace

bool sentencepiece_available() { return true; }

std::unique_ptr<SubwordModel> load_sentencepiece_model(const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw UserError("the tokenizer file '" + path.string() + "' does not exist");
  }
  return std::make_unique<SentencePieceModel>(path);
}

}  // namespace svgear
