// The text transformer of the vocab encoder: a new one is its token table plus positions, padding in a
// training batch changes nothing, and word order reaches the encoding, which a token table alone
// cannot give (the bag-of-words failure of the first shapes models).

#include "core/text/prompt_transformer.h"

#include <cmath>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/text/vocab_text_encoder.h"
#include "core/user_error.h"

namespace svgear {
namespace {

constexpr int kDim = 16;
constexpr int kMaxTokens = 12;

// A transformer whose every tensor is random: the zero-started parts (output projections, biases)
// as they are after training.
PromptTransformerWeights trained_looking(int layers, int heads, uint64_t seed) {
  PromptTransformerWeights w = new_prompt_transformer(layers, heads, kDim, kMaxTokens, seed);
  at::manual_seed(seed);
  w.for_each([](const std::string&, at::Tensor& t) { t = t + 0.3 * at::randn_like(t); });
  return w;
}

TEST(PromptTransformer, ANewOneIsItsTokenTablePlusPositions) {
  const PromptTransformerWeights w = new_prompt_transformer(2, 4, kDim, kMaxTokens, 3);
  const at::Tensor tokens = at::randn({3, 7, kDim});
  const at::Tensor expected = tokens + w.position.slice(0, 0, 7).unsqueeze(0);
  EXPECT_TRUE(at::equal(prompt_transformer_forward(w, tokens, at::Tensor()), expected));
  const at::Tensor valid = at::arange(7).unsqueeze(0).lt(at::tensor({7, 4, 1}).unsqueeze(1));
  EXPECT_TRUE(at::equal(prompt_transformer_forward(w, tokens, valid), expected));
  // Positions at a scale the DiT reads (a zero start stayed near zero in training).
  const double position_rms = w.position.square().mean().sqrt().item<double>();
  EXPECT_NEAR(position_rms, kPositionStd, 0.1 * kPositionStd);
  // A zero start (the first trained transformer's, which its replay asks for): zero positions, and
  // the other weights as drawn without them.
  const PromptTransformerWeights zero = new_prompt_transformer(2, 4, kDim, kMaxTokens, 3, 0.0);
  EXPECT_TRUE(at::equal(zero.position, at::zeros_like(w.position)));
  EXPECT_FALSE(at::equal(zero.layers[0].qkv_weight, w.layers[0].qkv_weight));
  EXPECT_NEAR(zero.layers[0].qkv_weight.std().item<double>(), 1.0 / std::sqrt(double(kDim)), 0.1 / std::sqrt(double(kDim)));
  // Names are unique and in the encoder's namespace; the table alone has none.
  PromptTransformerWeights named = w;
  std::vector<std::string> names;
  named.for_each([&](const std::string& name, at::Tensor&) { names.push_back(name); });
  EXPECT_EQ(names.size(), 1u + 2u * 12u);
  for (const std::string& name : names) EXPECT_EQ(name.rfind("text_encoder.", 0), 0u) << name;
  EXPECT_TRUE(new_prompt_transformer(0, 4, kDim, kMaxTokens, 3).empty());
  EXPECT_THROW(new_prompt_transformer(1, 3, kDim, kMaxTokens, 3), UserError);
}

// Training pads prompts to the batch's longest; each prompt must encode as it does alone (what the
// generator sees) whatever sits in the padding.
TEST(PromptTransformer, PaddedBatchMatchesEachPromptAlone) {
  const PromptTransformerWeights w = trained_looking(2, 4, 5);
  const std::vector<int64_t> lengths = {3, 9, 1};
  const at::Tensor batch = at::randn({3, 9, kDim}) * 2.0;  // the padding holds garbage too
  const at::Tensor valid = at::arange(9).unsqueeze(0).lt(at::tensor(lengths).unsqueeze(1));
  const at::Tensor together = prompt_transformer_forward(w, batch, valid);
  double largest = 0.0;
  for (int64_t b = 0; b < 3; ++b) {
    const at::Tensor prompt = batch[b].slice(0, 0, lengths[b]).unsqueeze(0);
    const at::Tensor alone = prompt_transformer_forward(w, prompt, at::Tensor()).squeeze(0);
    ASSERT_GT(alone.sub(prompt.squeeze(0)).abs().max().item<double>(), 0.1) << "the transformer did nothing";
    largest = std::max(largest, together[b].slice(0, 0, lengths[b]).sub(alone).abs().max().item<double>());
  }
  std::printf("[ measured ] padded batch vs each prompt alone: max abs %.2e\n", largest);
  EXPECT_LT(largest, 1e-5);
}

// "a red square over a blue background" against "a blue square over a red background": the same
// words, so the token table alone gives the same rows in another order (which cross-attention,
// with no positions on the text side, cannot tell apart); the transformer tells them apart.
TEST(PromptTransformer, WordOrderReachesTheEncoding) {
  const std::vector<std::string> vocabulary = {"a", "red", "blue", "square", "over", "background"};
  at::manual_seed(11);
  const at::Tensor table = at::randn({int64_t(vocabulary.size()), kDim});
  const std::string first = "a red square over a blue background", swapped = "a blue square over a red background";
  const auto sorted_rows = [](const at::Tensor& rows) {
    return std::get<0>(rows.sum(1).sort()).contiguous();  // an order-free summary of the rows
  };
  const VocabTextEncoder table_alone(vocabulary, table, kMaxTokens);
  EXPECT_TRUE(at::allclose(sorted_rows(table_alone.encode(first)), sorted_rows(table_alone.encode(swapped))));
  const VocabTextEncoder with_order(vocabulary, table, kMaxTokens, trained_looking(2, 4, 13));
  const at::Tensor a = with_order.encode(first), b = with_order.encode(swapped);
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{7, kDim}));
  const double gap = (a.mean(0) - b.mean(0)).norm().item<double>() / a.mean(0).norm().item<double>();
  std::printf("[ measured ] swapped colours: relative gap of the mean encodings %.3f\n", gap);
  EXPECT_GT(gap, 0.05);
  EXPECT_EQ(with_order.encode("").size(0), 0);  // the unconditional context stays empty
}

}  // namespace
}  // namespace svgear
