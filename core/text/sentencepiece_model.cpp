#include "core/text/sentencepiece_model.h"

#include <fstream>
#include <string>

#include <sentencepiece_processor.h>

#include "core/text/precompiled_charsmap.h"
#include "core/text/protobuf_fields.h"
#include "core/user_error.h"

namespace svgear {
namespace {

[[noreturn]] void refuse(const std::string& source, const std::string& why) {
  throw UserError("cannot read the SentencePiece tokenizer " + source + ": " + why +
                  ". Download spiece.model of google/umt5-xxl again.");
}

void check_size(uintmax_t size, const std::string& source) {
  if (size > kMaxSentencePieceBytes) refuse(source, "it has " + std::to_string(size) + " bytes, far more than a tokenizer's");
}

// Checks spiece.model's normalisation tables: libsentencepiece walks their tries without bounds
// checks, so a hostile table would crash the studio at the first prompt.
void check_model(const std::string& proto, const std::string& source) {
  check_size(proto.size(), source);
  // ModelProto's normalizer_spec (3), read by Encode, and denormalizer_spec (5), read by Decode
  // (the truncation note decodes): each a NormalizerSpec whose precompiled_charsmap is field 2.
  try {
    for (uint32_t spec : {3u, 5u}) {
      for (std::string_view normalizer : protobuf_bytes_fields(proto, spec)) {
        for (std::string_view charsmap : protobuf_bytes_fields(normalizer, 2)) {
          if (!charsmap.empty()) (void)PrecompiledCharsmap{charsmap};  // throws when malformed
        }
      }
    }
  } catch (const UserError& e) {
    refuse(source, e.what());
  }
}

std::string read_model_file(const std::filesystem::path& path) {
  const std::string source = "'" + path.string() + "'";
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) refuse(source, ec.message());
  check_size(size, source);  // before reading it whole
  std::ifstream in(path, std::ios::binary);
  std::string proto(size_t(size), '\0');
  if (!in.read(proto.data(), std::streamsize(size))) refuse(source, "it could not be read");
  return proto;
}

class SentencePieceModel : public SubwordModel {
 public:
  SentencePieceModel(const std::string& proto, const std::string& source) {
    check_model(proto, source);
    const auto status = processor_.LoadFromSerializedProto(proto);
    if (!status.ok()) refuse(source, status.ToString());
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
  return std::make_unique<SentencePieceModel>(read_model_file(path), "'" + path.string() + "'");
}

std::unique_ptr<SubwordModel> load_sentencepiece_model(const std::string& proto, const std::string& source) {
  return std::make_unique<SentencePieceModel>(proto, source);
}

}  // namespace svgear
