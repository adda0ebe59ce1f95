#include "core/model/wan_dit.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/attention/dense_backend.h"
#include "core/model/wan_random_weights.h"
#include "tests/model/tiny_wan.h"

namespace svgear {
namespace {

// Dense attention that records every call it gets.
class RecordingBackend : public DenseBackend {
 public:
  at::Tensor forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const AttentionCall& call) override {
    calls.push_back(call);
    q_sizes.push_back(q.sizes().vec());
    return DenseBackend::forward(q, k, v, call);
  }
  std::vector<AttentionCall> calls;
  std::vector<std::vector<int64_t>> q_sizes;
};

WanConfig small_config() {
  WanConfig c = test::tiny_wan_config();
  c.num_layers = 3;
  return c;
}

TEST(WanDiT, FillsTheAttentionCallOfEverySelfAttention) {
  const WanConfig c = small_config();
  WanDiT dit(c, wan_random_weights(c, 1));
  RecordingBackend backend;
  DiTForward call;
  call.attention = &backend;
  call.step = 4;
  call.num_steps = 50;
  call.branch = CfgBranch::Uncond;
  // 2 videos of 3 frames at 8×12 → a 3×4×6 token grid.
  at::Tensor out = dit.forward(at::randn({2, 16, 3, 8, 12}), at::tensor({999.0f, 10.0f}),
                               at::randn({2, 5, 64}), call);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 16, 3, 8, 12}));
  ASSERT_EQ(backend.calls.size(), 3u);
  for (int layer = 0; layer < 3; ++layer) {
    const AttentionCall& a = backend.calls[layer];
    EXPECT_EQ(a.layer, layer);
    EXPECT_EQ(a.num_layers, 3);
    EXPECT_EQ(a.step, 4);
    EXPECT_EQ(a.num_steps, 50);
    EXPECT_EQ(a.branch, CfgBranch::Uncond);
    EXPECT_EQ(a.grid.frames, 3);
    EXPECT_EQ(a.grid.height, 4);
    EXPECT_EQ(a.grid.width, 6);
    EXPECT_EQ(backend.q_sizes[layer], (std::vector<int64_t>{2, 2, 72, 64}));  // [B, H, N, d]
  }
}

// Guidance's two passes from one prefix: the second gives what its own whole forward gives, and
// block 0's self-attention runs once for both.
TEST(WanDiT, OnePrefixServesBothGuidancePasses) {
  const WanConfig c = small_config();
  WanDiT dit(c, wan_random_weights(c, 5));
  RecordingBackend backend;
  DiTForward call;
  call.attention = &backend;
  call.step = 2;
  call.num_steps = 10;
  at::Tensor x = at::randn({1, 16, 2, 4, 6});
  at::Tensor t = at::tensor({700.0f});
  at::Tensor context = at::randn({1, 7, 64});
  at::Tensor context_null = at::randn({1, 1, 64});
  const DiTPrefix prefix = dit.forward_prefix(x, t, call);
  const at::Tensor cond = dit.forward_from(prefix, context, call);
  call.branch = CfgBranch::Uncond;
  const at::Tensor uncond = dit.forward_from(prefix, context_null, call);
  ASSERT_EQ(backend.calls.size(), size_t(2 * c.num_layers - 1));
  EXPECT_EQ(backend.calls[0].layer, 0);
  EXPECT_EQ(backend.calls[0].branch, CfgBranch::Cond);
  for (int layer = 1; layer < c.num_layers; ++layer) {
    EXPECT_EQ(backend.calls[c.num_layers - 1 + layer].layer, layer);
    EXPECT_EQ(backend.calls[c.num_layers - 1 + layer].branch, CfgBranch::Uncond);
  }
  EXPECT_TRUE(at::equal(uncond, dit.forward(x, t, context_null, call)));
  call.branch = CfgBranch::Cond;
  EXPECT_TRUE(at::equal(cond, dit.forward(x, t, context, call)));
  EXPECT_FALSE(at::allclose(cond, uncond)) << "the contexts must matter for this test to mean anything";
}

// Every entry of a batch gives what its own single-entry forward gives: no entry reads another's
// latent, time step or context.
TEST(WanDiT, BatchEntriesAreIndependent) {
  const WanConfig c = small_config();
  WanDiT dit(c, wan_random_weights(c, 2));
  DenseBackend dense;
  DiTForward call;
  call.attention = &dense;
  at::Tensor x = at::randn({3, 16, 1, 4, 6});
  at::Tensor t = at::tensor({900.0f, 100.0f, 500.0f});
  at::Tensor context = at::randn({3, 16, 64});
  at::Tensor all = dit.forward(x, t, context, call);
  for (int64_t i = 0; i < 3; ++i) {
    at::Tensor alone = dit.forward(x.slice(0, i, i + 1), t.slice(0, i, i + 1), context.slice(0, i, i + 1), call);
    EXPECT_TRUE(at::allclose(all.slice(0, i, i + 1), alone, 1e-5, 1e-5))
        << "entry " << i << ": max abs difference " << (all.slice(0, i, i + 1) - alone).abs().max().item<double>();
  }
  EXPECT_FALSE(at::allclose(all.slice(0, 0, 1), all.slice(0, 1, 2), 1e-3, 1e-3))
      << "the entries must differ for this test to mean anything";
}

// A short context's padding as one counted row (TextContext) gives upstream's result: the same
// context zero-padded to text_len by the caller, which takes cross-attention's plain path.
TEST(WanDiT, ShortContextMatchesItsZeroPaddedContext) {
  const WanConfig c = small_config();
  WanDiT dit(c, wan_random_weights(c, 3));
  DenseBackend dense;
  DiTForward call;
  call.attention = &dense;
  at::Tensor x = at::randn({2, 16, 1, 4, 6});
  at::Tensor t = at::tensor({900.0f, 100.0f});
  for (const int64_t length : {1, 5, c.text_len - 1}) {
    at::Tensor context = at::randn({2, length, 64});
    at::Tensor padded = at::constant_pad_nd(context, {0, 0, 0, c.text_len - length});
    EXPECT_TRUE(at::allclose(dit.forward(x, t, context, call), dit.forward(x, t, padded, call), 1e-5, 1e-5))
        << "context of " << length << " rows";
  }
}

TEST(WanDiT, RandomWeightsKeepActivationsOrderOne) {
  WanConfig c = small_config();
  c.num_layers = 8;
  WanDiT dit(c, wan_random_weights(c, 3));
  DenseBackend dense;
  DiTForward call;
  call.attention = &dense;
  at::Tensor out = dit.forward(at::randn({1, 16, 2, 8, 8}), at::tensor({500.0f}),
                               at::randn({1, 10, 64}), call);
  EXPECT_TRUE(at::isfinite(out).all().item<bool>());
  const double std = out.std().item<double>();
  EXPECT_GT(std, 0.05);
  EXPECT_LT(std, 20.0);
}

// The trainer's path: every weight gets a gradient through the forward, the q/k norms' gains
// included (rms_norm_rope takes its ATen reference where a gradient is wanted).
TEST(WanDiT, EveryWeightGetsAGradient) {
  const WanConfig c = small_config();
  WanWeights weights = wan_random_weights(c, 4);
  weights.for_each_tensor_mutable([](const std::string&, at::Tensor& tensor, WeightPrecision) {
    tensor = tensor.to(at::kFloat).requires_grad_(true);
  });
  WanDiT dit(c, std::move(weights));
  DenseBackend dense;
  DiTForward call;
  call.attention = &dense;
  at::Tensor out = dit.forward(at::randn({1, 16, 3, 8, 12}), at::tensor({500.0f}), at::randn({1, 5, 64}), call);
  (out * at::randn_like(out)).sum().backward();
  int norms = 0;
  dit.weights().for_each_tensor([&](const std::string& name, const at::Tensor& tensor, WeightPrecision) {
    ASSERT_TRUE(tensor.grad().defined()) << name;
    EXPECT_GT(tensor.grad().abs().sum().item<double>(), 0.0) << name;
    if (name.find("norm_q") != std::string::npos || name.find("norm_k") != std::string::npos) ++norms;
  });
  EXPECT_EQ(norms, 4 * c.num_layers);  // self- and cross-attention, q and k, in every block
}

TEST(WanDiT, CancelTokenStopsTheForward) {
  const WanConfig c = small_config();
  WanDiT dit(c, wan_random_weights(c, 4));
  RecordingBackend backend;
  CancelToken cancel;
  cancel.cancel();
  DiTForward call;
  call.attention = &backend;
  call.cancel = &cancel;
  EXPECT_THROW(dit.forward(at::randn({1, 16, 1, 4, 4}), at::tensor({1.0f}), at::randn({1, 3, 64}),
                           call),
               Cancelled);
  EXPECT_TRUE(backend.calls.empty());
}

// A cancel that arrives during a block's self-attention stops the forward before that block's
// FFN: here the last block's, after which no other check would come.
TEST(WanDiT, CancelDuringSelfAttentionStopsBeforeTheFfn) {
  struct CancellingBackend : RecordingBackend {
    at::Tensor forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                       const AttentionCall& call) override {
      if (call.layer == call.num_layers - 1) cancel.cancel();
      return RecordingBackend::forward(q, k, v, call);
    }
    CancelToken cancel;
  };
  const WanConfig c = small_config();
  WanDiT dit(c, wan_random_weights(c, 4));
  CancellingBackend backend;
  DiTForward call;
  call.attention = &backend;
  call.cancel = &backend.cancel;
  EXPECT_THROW(dit.forward(at::randn({1, 16, 1, 4, 4}), at::tensor({1.0f}), at::randn({1, 3, 64}), call),
               Cancelled);
  EXPECT_EQ(backend.calls.size(), size_t(c.num_layers));
}

TEST(WanDiT, RejectsInputsThatDoNotFit) {
  const WanConfig c = small_config();
  WanDiT dit(c, wan_random_weights(c, 5));
  DenseBackend dense;
  DiTForward call;
  call.attention = &dense;
  at::Tensor t = at::tensor({1.0f});
  EXPECT_THROW(dit.forward(at::randn({1, 16, 1, 5, 4}), t, at::randn({1, 3, 64}), call),
               c10::Error);  // height not a multiple of the patch
  EXPECT_THROW(dit.forward(at::randn({1, 16, 1, 4, 4}), t, at::randn({1, 17, 64}), call),
               c10::Error);  // context longer than text_len
  EXPECT_THROW(dit.forward(at::randn({1, 8, 1, 4, 4}), t, at::randn({1, 3, 64}), call),
               c10::Error);  // wrong channel count
  DiTForward no_backend;
  EXPECT_THROW(dit.forward(at::randn({1, 16, 1, 4, 4}), t, at::randn({1, 3, 64}), no_backend),
               c10::Error);
}

}  // namespace
}  // namespace svgear
