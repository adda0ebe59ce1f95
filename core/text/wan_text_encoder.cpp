#include "core/text/wan_text_encoder.h"

#include <algorithm>

#include <ATen/ATen.h>

#include "core/user_error.h"

namespace svgear {

WanTextEncoder::WanTextEncoder(std::vector<std::filesystem::path> weight_files,
                               Umt5Tokenizer tokenizer, WanTextEncoderOptions options, LoadProgress* progress)
    : weight_files_(std::move(weight_files)), tokenizer_(std::move(tokenizer)), options_(options) {
  // From the headers first: a tokenizer of another model fails before gigabytes are read.
  config_ = Umt5Weights::read_config(open_umt5_files(weight_files_));
  check_tokenizer_fits(tokenizer_, config_);
  std::lock_guard<std::mutex> lock(mutex_);
  load_locked(progress);
}

void WanTextEncoder::check_tokenizer_fits(const Umt5Tokenizer& tokenizer, const Umt5Config& config) {
  // A tokenizer has at most the embedding's rows; the rows past its pieces are padding to a round
  // size (umT5-xxl: 256,300 pieces, 256,384 rows; T5 v1.1: 32,100 and 32,128), never thousands.
  constexpr int kMaxPaddingRows = 1024;
  const int pieces = tokenizer.vocab_size();
  if (pieces > config.vocab || pieces < config.vocab - kMaxPaddingRows) {
    throw UserError("the tokenizer " + tokenizer.source().string() + " has " + std::to_string(pieces) +
                    " pieces but the text encoder " + std::to_string(config.vocab) +
                    " embeddings: they belong to different models (umT5-xxl's tokenizer, spiece.model "
                    "or tokenizer.json of google/umt5-xxl, has 256,300)");
  }
}

void WanTextEncoder::load_locked(LoadProgress* progress) const {
  if (encoder_) return;
  encoder_.emplace(
      Umt5Weights::load(open_umt5_files(weight_files_), options_.device, options_.dtype, options_.cancel, progress));
}

void WanTextEncoder::release() {
  std::lock_guard<std::mutex> lock(mutex_);
  encoder_.reset();
}

bool WanTextEncoder::loaded() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return encoder_.has_value();
}

at::Tensor WanTextEncoder::encode(std::string_view prompt) const {
  const std::string key(prompt);
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto hit = index_.find(key); hit != index_.end()) {
    cache_.splice(cache_.begin(), cache_, hit->second);
    return hit->second->second;
  }

  const std::vector<int64_t> ids = tokenizer_.tokenize(prompt);
  load_locked();
  // Only the real tokens run: padding is masked out as keys and the position bias is relative, so
  // their outputs equal those of upstream's padded 512-token pass, at a fraction of the cost.
  const at::Tensor id_tensor = at::tensor(ids, at::kLong).unsqueeze(0);  // [1, L]
  const at::Tensor mask = at::ones_like(id_tensor);
  at::Tensor context = encoder_
                           ->forward(id_tensor, mask)  // [1, L, dim]
                           .squeeze(0)
                           .to(at::kCPU, at::kFloat)
                           .contiguous();  // [L, dim]

  if (options_.cache_entries > 0) {
    cache_.emplace_front(key, context);
    index_[key] = cache_.begin();
    if (int(cache_.size()) > options_.cache_entries) {
      index_.erase(cache_.back().first);
      cache_.pop_back();
    }
  }
  return context;
}

std::string WanTextEncoder::truncation_note(std::string_view prompt) const {
  const Umt5Tokenizer::Cut cut = tokenizer_.cut(prompt);
  if (cut.pieces == 0) return {};
  // Enough words to find the place in the prompt, cut at a character boundary.
  size_t end = std::min<size_t>(60, cut.text.size());
  while (end > 0 && end < cut.text.size() && (static_cast<unsigned char>(cut.text[end]) & 0xC0) == 0x80) --end;
  const std::string shown = cut.text.substr(0, end) + (end < cut.text.size() ? "…" : "");
  return "the text encoder reads its first " + std::to_string(tokenizer_.max_pieces()) +
         " tokens and ignores the last " + std::to_string(cut.pieces) + ", from \"" + shown + "\"";
}

}  // namespace svgear
