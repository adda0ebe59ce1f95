#pragma once
// WanTextEncoder: the TextEncoder of Wan models: Umt5Tokenizer + Umt5Encoder. encode() returns the
// context of the real tokens only, [L, dim] float32 on the CPU, L = pieces + EOS; the DiT zero-pads
// it to text_len as upstream does (its context after the real length is zeros, not the encoder's
// outputs at padding positions). An empty prompt gives L = 1 (EOS), as upstream.
//
//   WanTextEncoder enc({"umt5_xxl_fp16.safetensors"}, Umt5Tokenizer::load(folder), options);
//   at::Tensor context = enc.encode("a cat walks on the grass");   // [7, 4096]
//   enc.release();   // frees the weights before the DiT runs; cached prompts still answer
//
// Prompts are cached (least recently used out); encode() is thread-safe.

#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/cancel_token.h"
#include "core/text/text_encoder.h"
#include "core/text/umt5_encoder.h"
#include "core/text/umt5_tokenizer.h"
#include "core/weights/load_progress.h"

namespace svgear {

struct WanTextEncoderOptions {
  // Where the encoder runs: the CPU (no GPU memory; umT5-xxl needs ~11 GB in bf16) or the model's
  // device.
  at::Device device = at::kCPU;
  // Upstream runs umT5 in bfloat16 (t5_dtype); float32 is the reference precision.
  at::ScalarType dtype = at::kBFloat16;
  // Prompt embeddings kept; 0 disables the cache.
  int cache_entries = 16;
  // Polled before each tensor while the weights load, at construction and when encode() reloads
  // them after release(): a set token throws Cancelled. Must outlive the encoder.
  const CancelToken* cancel = nullptr;
};

class WanTextEncoder : public TextEncoder {
 public:
  // Loads (and so checks) the weights now, each tensor counted in `progress` when given (not the
  // reloads after release()); throws UserError / WeightsError with what to fix.
  WanTextEncoder(std::vector<std::filesystem::path> weight_files, Umt5Tokenizer tokenizer,
                 WanTextEncoderOptions options, LoadProgress* progress = nullptr);

  at::Tensor encode(std::string_view prompt) const override;
  int text_dim() const override { return config_.dim; }
  std::string truncation_note(std::string_view prompt) const override;

  // Frees the encoder's weights; the next prompt not in the cache loads them again.
  void release();
  bool loaded() const;

  // Throws UserError when `tokenizer` cannot be the tokenizer of an encoder with `config`'s
  // embedding rows (the constructor's check, also `svgear info --model`'s).
  static void check_tokenizer_fits(const Umt5Tokenizer& tokenizer, const Umt5Config& config);

  const Umt5Tokenizer& tokenizer() const { return tokenizer_; }
  const Umt5Config& config() const { return config_; }

 private:
  void load_locked(LoadProgress* progress = nullptr) const;

  std::vector<std::filesystem::path> weight_files_;
  Umt5Tokenizer tokenizer_;
  WanTextEncoderOptions options_;
  Umt5Config config_;

  mutable std::mutex mutex_;
  mutable std::optional<Umt5Encoder> encoder_;
  // Most recently used first; index_ points into it.
  mutable std::list<std::pair<std::string, at::Tensor>> cache_;
  mutable std::unordered_map<std::string, std::list<std::pair<std::string, at::Tensor>>::iterator>
      index_;
};

}  // namespace svgear
