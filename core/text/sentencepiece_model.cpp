#include "core/text/sentencepiece_model.h"

#include <cerrno>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>
#include <sentencepiece_processor.h>

#include "core/io/file_system_trouble.h"
#include "core/text/precompiled_charsmap.h"
#include "core/text/protobuf_fields.h"
#include "core/user_error.h"

namespace svgear {
namespace {

[[noreturn]] void refuse(const std::string& source, const std::string& why) {
  throw UserError("cannot read the SentencePiece tokenizer " + source + ": " + why +
                  ". Download spiece.model of google/umt5-xxl again.");
}

// libsentencepiece's status text, fit for a UserError: its messages quote the file's pieces byte
// for byte ("byte piece <0x\xB1> is invalid."), and the message reaches the user through JSON
// events, which must be UTF-8. nlohmann's dump turns bytes outside UTF-8 into U+FFFD, and parsing
// its output back undoes the escaping. Cut at 300 bytes (a piece can be megabytes), on a character
// boundary; the final period goes (ours follows).
std::string status_text(const sentencepiece::util::Status& status) {
  std::string text =
      nlohmann::json::parse(nlohmann::json(status.ToString()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
          .get<std::string>();
  if (text.size() > 300) {
    size_t end = 300;
    while ((static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // not inside a character
    text.resize(end);
    text += "\xE2\x80\xA6";  // "…"
  }
  while (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

void check_size(uintmax_t size, const std::string& source) {
  if (size > kMaxSentencePieceBytes) refuse(source, "it has " + std::to_string(size) + " bytes, far more than a tokenizer's");
}

// Checks what libsentencepiece trusts in spiece.model: its normalisation tables, whose tries it
// walks without bounds checks (a hostile table would crash the studio at the first prompt), and
// its pieces, which go into darts-clone tries as C strings (one holding a NUL makes the trie
// builder throw its own exception: a zero-length key, keys out of order).
void check_model(const std::string& proto, const std::string& source) {
  check_size(proto.size(), source);
  try {
    // ModelProto's pieces (1), each a SentencePiece whose piece is field 1.
    int index = 0;
    for (std::string_view piece : protobuf_bytes_fields(proto, 1)) {
      for (std::string_view text : protobuf_bytes_fields(piece, 1)) {
        if (text.find('\0') != std::string_view::npos) {
          throw UserError("its piece " + std::to_string(index) + " holds a NUL byte");
        }
      }
      ++index;
    }
    // normalizer_spec (3), read by Encode, and denormalizer_spec (5), read by Decode (the
    // truncation note decodes): each a NormalizerSpec whose precompiled_charsmap is field 2.
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
  if (!in) refuse(source, open_failure(errno));
  std::string proto(size_t(size), '\0');
  if (!in.read(proto.data(), std::streamsize(size))) refuse(source, "it could not be read");
  return proto;
}

class SentencePieceModel : public SubwordModel {
 public:
  SentencePieceModel(const std::string& proto, const std::string& source) {
    check_model(proto, source);
    // libsentencepiece reports most faults as a status but throws from some (darts-clone's trie
    // builder): both are a broken file.
    sentencepiece::util::Status status;
    try {
      status = processor_.LoadFromSerializedProto(proto);
    } catch (const std::exception& e) {
      refuse(source, std::string("SentencePiece failed (") + e.what() + ")");
    }
    if (!status.ok()) refuse(source, status_text(status));
  }

  std::vector<int64_t> encode(std::string_view text) const override {
    std::vector<int> ids;
    const auto status = processor_.Encode(text, &ids);
    if (!status.ok())
      throw UserError("SentencePiece could not encode the prompt: " + status_text(status));
    return {ids.begin(), ids.end()};
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string text;
    const auto status = processor_.Decode(std::vector<int>(ids.begin(), ids.end()), &text);
    if (!status.ok()) throw UserError("SentencePiece could not decode ids: " + status_text(status));
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
