#include "core/text/umt5_tokenizer.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include <ATen/ATen.h>

#include "core/io/not_a_file.h"
#include "core/text/prompt_cleaning.h"
#include "core/text/sentencepiece_model.h"
#include "core/text/unigram_model.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"

namespace svgear {
namespace {

// ComfyUI's umT5 files hold spiece.model's bytes under this name.
constexpr const char* kSpieceTensor = "spiece_model";

std::unique_ptr<SubwordModel> load_file(const std::filesystem::path& path) {
  if (path.extension() == ".json") return UnigramModel::load(path);
  return load_sentencepiece_model(path);
}

}  // namespace

Umt5Tokenizer::Umt5Tokenizer(std::shared_ptr<const SubwordModel> model,
                             std::filesystem::path source, int text_len)
    : model_(std::move(model)), source_(std::move(source)), text_len_(text_len) {
  if (text_len_ < 1) throw UserError("the text length must be at least 1 (room for EOS)");
}

std::filesystem::path Umt5Tokenizer::locate(const std::filesystem::path& path,
                                            const std::vector<std::filesystem::path>& text_encoder_files) {
  if (std::filesystem::is_regular_file(path)) {
    if (path.extension() != ".json" && path.extension() != ".model") {
      throw UserError("'" + path.string() + "' is not a tokenizer: give spiece.model or " +
                      "tokenizer.json of google/umt5-xxl, or the folder holding them");
    }
    return path;
  }
  std::vector<std::filesystem::path> looked;
  for (const auto& folder : {path, path / "tokenizer", path / "google" / "umt5-xxl"}) {
    for (const char* name : {"spiece.model", "tokenizer.json"}) {
      const std::filesystem::path candidate = folder / name;
      looked.push_back(candidate);
      const bool readable = candidate.extension() == ".json" || sentencepiece_available();
      if (readable && std::filesystem::is_regular_file(candidate)) return candidate;
    }
  }
  for (const auto& file : text_encoder_files) {
    if (file.extension() != ".safetensors") continue;
    if (SafetensorsFile::open(file)->contains(kSpieceTensor)) return file;
    looked.push_back(file.string() + " (its " + kSpieceTensor + " tensor)");
  }
  std::string list;
  for (const auto& p : looked) list += "\n  " + p.string() + there_but_not_a_file(p);
  throw UserError(
      "no umT5 tokenizer found: looked for" + list +
      "\nDownload spiece.model or tokenizer.json of google/umt5-xxl (Wan2.1 ships them in "
      "google/umt5-xxl/, the Diffusers repository in tokenizer/)" +
      (sentencepiece_available() ? "" : "; this build reads only tokenizer.json"));
}

Umt5Tokenizer Umt5Tokenizer::load(const std::filesystem::path& path, int text_len,
                                  const std::vector<std::filesystem::path>& text_encoder_files) {
  const std::filesystem::path file = locate(path, text_encoder_files);
  if (file.extension() != ".safetensors") return Umt5Tokenizer(load_file(file), file, text_len);
  const auto weights = SafetensorsFile::open(file);
  const TensorEntry& entry = *weights->find(kSpieceTensor);
  const std::string source = "the " + std::string(kSpieceTensor) + " tensor of '" + file.string() + "'";
  if (entry.dtype != WeightDtype::U8 || entry.shape.size() != 1) {
    throw UserError(source + " is not a byte string: download the file again");
  }
  if (uintmax_t(entry.shape[0]) > kMaxSentencePieceBytes) {  // before reading it whole
    throw UserError(source + " has " + std::to_string(entry.shape[0]) +
                    " bytes, far more than a tokenizer's: download the file again");
  }
  const at::Tensor bytes = weights->load(entry.name).contiguous();
  const std::string proto(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), size_t(bytes.numel()));
  return Umt5Tokenizer(load_sentencepiece_model(proto, source), file, text_len);
}

std::vector<int64_t> Umt5Tokenizer::tokenize(std::string_view prompt) const {
  std::vector<int64_t> ids = model_->encode(clean_prompt(prompt));
  if (int64_t(ids.size()) > max_pieces()) ids.resize(max_pieces());
  ids.push_back(kEosId);
  return ids;
}

Umt5Tokenizer::Cut Umt5Tokenizer::cut(std::string_view prompt) const {
  const std::string cleaned = clean_prompt(prompt);
  const std::vector<int64_t> ids = model_->encode(cleaned);
  if (int64_t(ids.size()) <= max_pieces()) return {};
  const std::vector<int64_t> dropped(ids.begin() + max_pieces(), ids.end());
  // The prompt's own text from the word the cut falls in: the dropped pieces decoded began mid-word
  // ("hrough fresh snow") and showed characters the vocabulary lacks as ⁇. Where the kept pieces do
  // not decode to the start of the text (normalised characters), the decoded pieces it is.
  const std::string kept = model_->decode(std::vector<int64_t>(ids.begin(), ids.begin() + max_pieces()));
  if (cleaned.compare(0, kept.size(), kept) != 0) return {int64_t(dropped.size()), model_->decode(dropped)};
  // Back to the start of a word of ASCII letters and digits the cut falls in, at most a word's
  // length: a prompt in a script without spaces (Chinese, Japanese) is quoted from the cut itself,
  // not from its beginning.
  constexpr size_t kLongestWord = 32;
  size_t start = kept.size();
  const auto in_word = [&](size_t at) { return std::isalnum(static_cast<unsigned char>(cleaned[at])) != 0; };
  if (start < cleaned.size() && in_word(start)) {
    size_t word = start;
    while (word > 0 && start - word < kLongestWord && in_word(word - 1)) --word;
    if (word == 0 || !in_word(word - 1)) start = word;
  }
  while (start < cleaned.size() && cleaned[start] == ' ') ++start;
  return {int64_t(dropped.size()), cleaned.substr(start)};
}

Umt5Tokens Umt5Tokenizer::encode(std::string_view prompt) const {
  const std::vector<int64_t> ids = tokenize(prompt);
  Umt5Tokens out;
  out.length = int64_t(ids.size());
  out.ids = at::full({1, text_len_}, kPadId, at::kLong);
  out.ids.narrow(1, 0, out.length).copy_(at::tensor(ids, at::kLong).unsqueeze(0));
  out.mask = at::zeros({1, text_len_}, at::kLong);
  out.mask.narrow(1, 0, out.length).fill_(1);
  return out;
}

std::string Umt5Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int64_t> pieces;
  std::copy_if(ids.begin(), ids.end(), std::back_inserter(pieces),
               [](int64_t id) { return id != kPadId && id != kEosId; });
  return model_->decode(pieces);
}

}  // namespace svgear
