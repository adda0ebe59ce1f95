// WanTextEncoder: tokenizer + umT5 encoder behind the TextEncoder interface, with its cache and
// release; the tiny reference encoder and a hand-made tokenizer.json.

#include "core/text/wan_text_encoder.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/user_error.h"
#include "tests/support/tensor_compare.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"

namespace svgear {
namespace {

// Ids 3..: "▁", a-z, "▁a", "▁cat", "▁walks", "▁the", "▁grass", "▁on".
std::filesystem::path tiny_tokenizer_folder(const std::string& name) {
  std::vector<std::pair<std::string, double>> pieces = {{"\xE2\x96\x81", -3.0}};
  for (char c = 'a'; c <= 'z'; ++c) pieces.emplace_back(std::string(1, c), -5.0);
  for (const char* word : {"a", "cat", "walks", "the", "grass", "on"}) {
    pieces.emplace_back("\xE2\x96\x81" + std::string(word), -2.0);
  }
  const auto dir = test::scratch_dir(name);
  test::write_tokenizer_json(dir, pieces);
  return dir;
}

WanTextEncoder tiny_encoder(const std::string& name, WanTextEncoderOptions options = {}) {
  options.dtype = at::kFloat;
  return WanTextEncoder({test::tiny_umt5_weights_path()},
                        Umt5Tokenizer::load(tiny_tokenizer_folder(name)), options);
}

TEST(WanTextEncoder, ReturnsTheRealTokensOfUpstreamsPaddedPass) {
  const WanTextEncoder enc = tiny_encoder("wan_te_padded");
  EXPECT_EQ(enc.text_dim(), 64);
  const std::string prompt = "a cat walks on the grass";
  const at::Tensor context = enc.encode(prompt);
  ASSERT_EQ(context.sizes(), (std::vector<int64_t>{7, 64}));  // 6 words + EOS
  EXPECT_EQ(context.scalar_type(), at::kFloat);
  EXPECT_TRUE(context.device().is_cpu());

  // Upstream runs all 512 positions with the mask and keeps the first L.
  const Umt5Tokens t = enc.tokenizer().encode(prompt);
  const at::Tensor padded =
      Umt5Encoder(test::tiny_umt5_weights()).forward(t.ids, t.mask)[0].narrow(0, 0, t.length);
  const double err = test::relative_l2(context, padded);
  std::cout << "[ measured ] real tokens only vs padded 512-token pass: relative L2 " << err
            << "\n";
  EXPECT_LE(err, 1e-6);
}

TEST(WanTextEncoder, EmptyPromptIsEos) {
  EXPECT_EQ(tiny_encoder("wan_te_empty").encode("").sizes(), (std::vector<int64_t>{1, 64}));
}

TEST(WanTextEncoder, CachesPromptsLeastRecentlyUsedOut) {
  WanTextEncoderOptions options;
  options.cache_entries = 2;
  const WanTextEncoder enc = tiny_encoder("wan_te_cache", options);
  const at::Tensor first = enc.encode("a cat");
  EXPECT_TRUE(enc.encode("a cat").is_same(first));
  enc.encode("the grass");
  enc.encode("a cat");  // refreshes "a cat"
  enc.encode("walks");  // evicts "the grass"
  EXPECT_TRUE(enc.encode("a cat").is_same(first));
  const at::Tensor again = enc.encode("the grass");
  EXPECT_TRUE(at::equal(again, enc.encode("the grass")));
}

TEST(WanTextEncoder, ReleaseFreesTheWeightsAndReloadsOnDemand) {
  WanTextEncoder enc = tiny_encoder("wan_te_release");
  const at::Tensor before = enc.encode("a cat walks");
  EXPECT_TRUE(enc.loaded());
  enc.release();
  EXPECT_FALSE(enc.loaded());
  EXPECT_TRUE(enc.encode("a cat walks").is_same(before));  // from the cache
  EXPECT_FALSE(enc.loaded());
  const at::Tensor other = enc.encode("on the grass");  // loads again
  EXPECT_TRUE(enc.loaded());
  EXPECT_EQ(other.size(0), 4);
}

// A set token stops the weights' load, at construction and when encode() reloads them after
// release(); the cached prompts still answer and a reset token lets the reload through.
TEST(WanTextEncoder, ACancelledTokenStopsTheWeightsLoad) {
  CancelToken cancel;
  WanTextEncoderOptions options;
  options.cancel = &cancel;
  cancel.cancel();
  EXPECT_THROW(tiny_encoder("wan_te_cancel_new", options), Cancelled);
  cancel.reset();
  WanTextEncoder enc = tiny_encoder("wan_te_cancel", options);
  const at::Tensor cached = enc.encode("a cat");
  enc.release();
  cancel.cancel();
  EXPECT_THROW(enc.encode("the grass"), Cancelled);
  EXPECT_FALSE(enc.loaded());
  EXPECT_TRUE(enc.encode("a cat").is_same(cached));
  cancel.reset();
  EXPECT_EQ(enc.encode("the grass").size(0), 3);
  EXPECT_TRUE(enc.loaded());
}

TEST(WanTextEncoder, TokenizerOfAnotherModelIsRefused) {
  std::vector<std::pair<std::string, double>> pieces;
  for (int i = 0; i < 400; ++i) pieces.emplace_back("\xE2\x96\x81w" + std::to_string(i), -3.0);
  const auto dir = test::scratch_dir("wan_te_big_vocab");
  test::write_tokenizer_json(dir, pieces);
  try {
    WanTextEncoder({test::tiny_umt5_weights_path()}, Umt5Tokenizer::load(dir), {});
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(test::contains(e.what(), "403 pieces but the text encoder 300 embeddings"));
  }
}

// A tokenizer far smaller than the embedding (a T5 tokenizer beside umT5) is refused too, from the
// headers: the second layer's wrong shape would fail the load, and the tokenizer's message comes first.
TEST(WanTextEncoder, TokenizerFarSmallerThanTheEmbeddingIsRefusedBeforeLoading) {
  auto tensors = test::tiny_umt5_state_dict();
  for (auto& [name, tensor] : tensors) {
    if (name.ends_with("token_embedding.weight")) tensor = at::zeros({2000, tensor.size(1)});
    if (name.ends_with("blocks.1.ffn.fc2.weight")) tensor = at::zeros({3, 3});
  }
  const auto dir = test::scratch_dir("wan_te_small_tokenizer");
  const auto weights = test::write_tensors(dir, "umt5.safetensors", tensors);
  try {
    WanTextEncoder({weights}, Umt5Tokenizer::load(tiny_tokenizer_folder("wan_te_small_tokenizer_tok")), {});
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(test::contains(e.what(), "36 pieces but the text encoder 2000 embeddings")) << e.what();
  }
}

}  // namespace
}  // namespace svgear
