#pragma once
// The tiny umT5 encoder of ../shared/testvectors/wan/umt5_tiny.* (upstream T5Encoder, fp32 CPU),
// files written from it in the other layouts the loader accepts, and a small Unigram
// tokenizer.json.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <gtest/gtest.h>

#include "core/text/umt5_weights.h"

namespace svgear::test {

std::filesystem::path tiny_umt5_weights_path();

// The reference tensors under their original names, as stored (fp32).
std::vector<std::pair<std::string, at::Tensor>> tiny_umt5_state_dict();

Umt5Weights tiny_umt5_weights(at::Device device = at::kCPU, at::ScalarType dtype = at::kFloat);

struct TinyUmt5Io {
  at::Tensor ids;  // [1, 12] int64
  at::Tensor mask;  // [1, 12] int64, last 3 padding
  at::Tensor out;  // [1, 12, 64]
};
TinyUmt5Io tiny_umt5_io();

// Writes `tensors` to dir/name and returns the path.
std::filesystem::path write_tensors(const std::filesystem::path& dir, const std::string& name,
                                    const std::vector<std::pair<std::string, at::Tensor>>& tensors);

// A Unigram tokenizer.json (Hugging Face format) of `pieces` (piece, score) after the T5 specials
// <pad> 0, </s> 1, <unk> 2; with T5's normalizers when a precompiled charsmap blob is given.
std::filesystem::path write_tokenizer_json(
    const std::filesystem::path& dir, const std::vector<std::pair<std::string, double>>& pieces,
    bool byte_fallback = false, const std::string& precompiled_charsmap = "");

// Succeeds when `text` contains `part`; the failure shows the whole text.
::testing::AssertionResult contains(const std::string& text, const std::string& part);

}  // namespace svgear::test
