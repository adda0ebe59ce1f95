// Svg2Backend and SvgEarBackend end to end (clustering, permutation, routing, attention, traces).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "svgear/build_config.h"
#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include "core/attention/attention_backends.h"
#include "core/attention/dense_backend.h"
#include "core/attention/routing_trace.h"
#include "core/attention/svg2_backend.h"
#include "core/attention/svgear_backend.h"
#include "core/user_error.h"
#include "kernels/block_sparse_attention/block_sparse_attention.h"
#include "kernels/cluster_permutation/cluster_permutation.h"
#include "kernels/common/kernel_path.h"
#include "tests/attention/clustered_qkv.h"
#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

struct CollectingSink : RoutingTraceSink {
  std::vector<RoutingTrace> traces;
  void on_trace(RoutingTrace&& trace) override { traces.push_back(std::move(trace)); }
};

std::vector<at::Device> devices() {
  std::vector<at::Device> list = {at::kCPU};
  if (at::hasCUDA()) list.push_back(at::Device(at::kCUDA, 0));
  return list;
}

AttentionConfig small_config(AttentionMode mode) {
  AttentionConfig config;
  config.mode = mode;
  config.q_clusters = 10;
  config.k_clusters = 40;
  config.top_p = 0.9;
  config.min_kc_ratio = 0.10;
  config.guaranteed_ratio = 0.05;
  config.kmeans_init_iters = 20;
  config.kmeans_step_iters = 2;
  config.dense_warmup_steps = 0.0;
  config.dense_layers = 0.0;  // still one dense layer (layer 0): the tests use layer 1
  return config;
}

// A sparse call: past the dense warm-up, not the first layer.
AttentionCall sparse_call(int step = 3) {
  AttentionCall call;
  call.layer = 1;
  call.num_layers = 4;
  call.step = step;
  call.num_steps = 10;
  return call;
}

at::Tensor dense_attention(const test::ClusteredQKV& x) {
  DenseBackend dense;
  return dense.forward(x.q, x.k, x.v, sparse_call());
}

TEST(SparseBackend, SupportsItsModeOnCpuAndCuda) {
  AttentionConfig config = small_config(AttentionMode::Svg2);
  Svg2Backend svg2(config);
  std::string why;
  EXPECT_TRUE(svg2.supports(config, at::kCPU, &why)) << why;
  EXPECT_TRUE(svg2.supports(config, at::Device(at::kCUDA, 0), &why)) << why;
  config.mode = AttentionMode::SvgEar;
  EXPECT_FALSE(svg2.supports(config, at::kCPU, &why));
  EXPECT_NE(why.find("svgear"), std::string::npos) << why;
  SvgEarBackend ear(config);
  EXPECT_EQ(ear.name(), "svgear");
  EXPECT_TRUE(ear.supports(config, at::Device(at::kCUDA, 0), &why)) << why;
  config.top_p = 0.0;
  EXPECT_FALSE(ear.supports(config, at::kCPU, &why));
  EXPECT_NE(why.find("top_p"), std::string::npos) << why;
  // What the front ends refuse, a config built by hand is refused with too: a NaN would route on
  // NaN scores, a negative gamma reverse the preference for small blocks.
  const AttentionConfig good = small_config(AttentionMode::SvgEar);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& [field, spoil] : std::vector<std::pair<std::string, std::function<void(AttentionConfig&)>>>{
           {"gamma", [&](AttentionConfig& c) { c.gamma = nan; }},
           {"gamma", [](AttentionConfig& c) { c.gamma = -1.0; }},
           {"dense_warmup_steps", [&](AttentionConfig& c) { c.dense_warmup_steps = nan; }},
           {"dense_layers", [](AttentionConfig& c) { c.dense_layers = -3.0; }}}) {
    AttentionConfig bad = good;
    spoil(bad);
    EXPECT_FALSE(ear.supports(bad, at::kCPU, &why)) << field;
    EXPECT_NE(why.find(field), std::string::npos) << why;
    EXPECT_THROW(make_attention_backend(bad, at::kCPU), UserError) << field;
  }
}

TEST(SparseBackend, RoutingEveryBlockIsDense) {
  // top_p = 1 alone routes every non-empty block, with the default min_kc_ratio and guaranteed ratio
  // (the rounded prefix sums of the probabilities can pass 1 before the last cluster; block_routing
  // keeps every cluster at top_p >= 1 all the same).
  test::ClusteredQKV x = test::clustered_qkv(2, 2, 389, 16, 21);
  at::Tensor expected = dense_attention(x);
  for (AttentionMode mode : {AttentionMode::Svg2, AttentionMode::SvgEar}) {
    AttentionConfig config = small_config(mode);
    config.top_p = 1.0;
    for (const at::Device& device : devices()) {
      std::unique_ptr<Svg2Backend> backend = mode == AttentionMode::Svg2
                                                 ? std::make_unique<Svg2Backend>(config)
                                                 : std::make_unique<SvgEarBackend>(config);
      at::Tensor o = backend->forward(x.q.to(device), x.k.to(device), x.v.to(device), sparse_call());
      EXPECT_EQ(o.sizes(), x.q.sizes());
      EXPECT_TRUE(test::tensors_close(o.cpu(), expected, 1e-5)) << attention_mode_name(mode) << " " << device;
    }
  }
}

TEST(SparseBackend, SvgEarIsExactWhenKeysAndValuesAreConstantPerKeyCluster) {
  // 6 distinct (key, value) pairs; 40 key clusters from random distinct tokens cover all 6, so every
  // key cluster holds one pair and its centroid and value mean are exact: compensation loses nothing,
  // whatever the routing (a low top_p skips most blocks).
  at::manual_seed(31);
  const int64_t n = 457, d = 16, pairs = 6;
  at::Tensor keys = at::randn({1, 2, pairs, d}) * 2.0;
  at::Tensor values = at::randn({1, 2, pairs, d});
  at::Tensor which = at::randint(pairs, {1, 2, n, 1}, at::kLong).expand({1, 2, n, d});
  test::ClusteredQKV x{at::randn({1, 2, n, d}) * 2.0, keys.gather(2, which), values.gather(2, which)};
  at::Tensor expected = dense_attention(x);
  AttentionConfig config = small_config(AttentionMode::SvgEar);
  config.top_p = 0.3;
  for (const at::Device& device : devices()) {
    SvgEarBackend ear(config);
    CollectingSink sink;
    TraceOptions options;
    options.enabled = true;
    ear.set_trace(options, &sink);
    at::Tensor o = ear.forward(x.q.to(device), x.k.to(device), x.v.to(device), sparse_call());
    EXPECT_TRUE(test::tensors_close(o.cpu(), expected, 1e-5)) << device;
    ASSERT_EQ(sink.traces.size(), 2u);
    EXPECT_LT(sink.traces[0].density, 0.9) << "the routing should skip blocks for this test to mean anything";
  }
}

// Relative L2 errors against dense attention, and mean densities.
struct Errors {
  double ear = 0, svg2 = 0, svg2_mask_compensated = 0, ear_mask_dropped = 0, window_dropped = 0;
  double ear_density = 0, svg2_density = 0, window_density = 0;
};

enum class SkippedBlocks { Dropped, Compensated };

// Block-sparse attention with a backend's own clusters and mask, read back from its traces.
at::Tensor rerun_traced_mask(const test::ClusteredQKV& x, const std::vector<RoutingTrace>& traces,
                             const AttentionConfig& config, SkippedBlocks skipped) {
  const int64_t b = x.q.size(0), h = x.q.size(1), n = x.q.size(2), d = x.q.size(3);
  std::vector<at::Tensor> q_labels, k_labels, masks;
  for (const RoutingTrace& t : traces) {
    q_labels.push_back(at::tensor(t.q_labels, at::kInt).to(at::kLong));
    k_labels.push_back(at::tensor(t.k_labels, at::kInt).to(at::kLong));
    masks.push_back(at::tensor(std::vector<int64_t>(t.block_map.begin(), t.block_map.end()), at::kLong)
                        .view({t.q_clusters, t.k_clusters}) != 0);
  }
  ClusterLayout ql = cluster_layout(at::stack(q_labels), config.q_clusters);
  ClusterLayout kl = cluster_layout(at::stack(k_labels), config.k_clusters);
  at::Tensor qp = gather_tokens(x.q.reshape({b * h, n, d}), ql.order);  // [BH, N, d]
  at::Tensor kp = gather_tokens(x.k.reshape({b * h, n, d}), kl.order);  // [BH, N, d]
  at::Tensor vp = gather_tokens(x.v.reshape({b * h, n, d}), kl.order);  // [BH, N, d]
  at::Tensor k_sizes = kl.offsets.narrow(1, 1, config.k_clusters) - kl.offsets.narrow(1, 0, config.k_clusters);
  CentroidCompensation compensation{cluster_means(kp, kl.offsets), cluster_means(vp, kl.offsets), k_sizes};
  at::Tensor op = block_sparse_attention(qp, kp, vp, ql.offsets, kl.offsets, at::stack(masks),
                                         1.0 / std::sqrt(double(d)),
                                         skipped == SkippedBlocks::Compensated ? &compensation : nullptr);
  return scatter_tokens(op, ql.order).view({b, h, n, d});
}

// The plain way to drop blocks: no clustering and no estimate. Tokens stay in their order, cut into
// tiles of `tile` tokens; each query tile attends the key tiles within a band around its own (a
// static local window, as fixed-pattern sparse attention does) wide enough for `min_density`;
// everything else is dropped. Sets *density to the band's exact density.
at::Tensor local_window_dropped(const test::ClusteredQKV& x, double min_density, double* density) {
  const int64_t b = x.q.size(0), h = x.q.size(1), n = x.q.size(2), d = x.q.size(3);
  constexpr int64_t tile = 32;
  const int64_t tiles = (n + tile - 1) / tile;
  const at::Tensor labels =
      at::floor_divide(at::arange(n, at::TensorOptions().dtype(at::kLong)), tile).expand({b * h, n}).contiguous();  // [BH, N]
  const ClusterLayout layout = cluster_layout(labels, tiles);
  const at::Tensor sizes = (layout.offsets.narrow(1, 1, tiles) - layout.offsets.narrow(1, 0, tiles))[0];  // [T]
  const at::Tensor distance = (at::arange(tiles).unsqueeze(1) - at::arange(tiles).unsqueeze(0)).abs();  // [T, T]
  const at::Tensor area = sizes.unsqueeze(1) * sizes.unsqueeze(0);                                   // [T, T]
  at::Tensor mask;
  for (int64_t band = 0; band < tiles; ++band) {
    mask = distance <= band;
    *density = area.masked_select(mask).sum().item<double>() / double(n * n);
    if (*density >= min_density) break;
  }
  at::Tensor o = block_sparse_attention(x.q.reshape({b * h, n, d}), x.k.reshape({b * h, n, d}),
                                        x.v.reshape({b * h, n, d}), layout.offsets, layout.offsets,
                                        mask.expand({b * h, tiles, tiles}).contiguous(), 1.0 / std::sqrt(double(d)),
                                        /*compensation=*/nullptr);
  return o.view({b, h, n, d});
}

Errors measure(uint64_t seed) {
  test::ClusteredQKV x = test::clustered_qkv(1, 3, 1201, 32, seed);
  at::Tensor expected = dense_attention(x);
  Errors e;
  TraceOptions options;
  options.enabled = true;
  CollectingSink ear_sink, svg2_sink;
  AttentionConfig ear_config = small_config(AttentionMode::SvgEar);
  SvgEarBackend ear(ear_config);
  ear.set_trace(options, &ear_sink);
  e.ear = test::relative_l2(ear.forward(x.q, x.k, x.v, sparse_call()), expected);
  AttentionConfig svg2_config = small_config(AttentionMode::Svg2);
  Svg2Backend svg2(svg2_config);
  svg2.set_trace(options, &svg2_sink);
  e.svg2 = test::relative_l2(svg2.forward(x.q, x.k, x.v, sparse_call()), expected);
  e.svg2_mask_compensated = test::relative_l2(
      rerun_traced_mask(x, svg2_sink.traces, svg2_config, SkippedBlocks::Compensated), expected);
  e.ear_mask_dropped =
      test::relative_l2(rerun_traced_mask(x, ear_sink.traces, ear_config, SkippedBlocks::Dropped), expected);
  for (const RoutingTrace& t : ear_sink.traces) e.ear_density += t.density / ear_sink.traces.size();
  for (const RoutingTrace& t : svg2_sink.traces) e.svg2_density += t.density / svg2_sink.traces.size();
  e.window_dropped =
      test::relative_l2(local_window_dropped(x, std::max(e.ear_density, e.svg2_density), &e.window_density), expected);
  return e;
}

TEST(SparseBackend, ErrorOrderingAtEqualBudget) {
  // Same top_p budget for both; SVG-EAR's forced prefix 2r·Kc equals SVG2's min_kc_ratio·Kc, and
  // its greedy fill may overshoot the budget by its last pick (spec §3.4).
  // Asserted: SVG-EAR beats SVG2 and plain dropping (a static local window of token tiles at a
  // density no lower than either); as in the SVG-EAR page's error-vs-density plot, EAR routing +
  // compensation < top-p routing + compensation < top-p alone (SVG2); compensation helps EAR's mask.
  // Not asserted, because on this data it is the other way round (printed; docs/attention-notes.md):
  // SVG2 < EAR's mask with skipped blocks dropped, and SVG2 < the local window. Tokens here have no
  // spatial order, so the window is an unbiased random subsample of keys, while SVG2 drops whole
  // clusters and so drops the ~10% of the mass outside top_p with its values' bias.
  for (uint64_t seed : {1, 2, 3, 4}) {
    Errors e = measure(seed);
    std::printf("seed %lu: rel L2  svgear %.4f (density %.3f)  svg2+compensation %.4f  "
                "svg2 %.4f (density %.3f)  svgear mask dropped %.4f  local window dropped %.4f (density %.3f)\n",
                static_cast<unsigned long>(seed), e.ear, e.ear_density, e.svg2_mask_compensated, e.svg2,
                e.svg2_density, e.ear_mask_dropped, e.window_dropped, e.window_density);
    EXPECT_LT(e.ear, e.svg2) << "seed " << seed;
    EXPECT_LT(e.ear, e.window_dropped) << "seed " << seed;
    EXPECT_LT(e.ear, e.svg2_mask_compensated) << "seed " << seed;
    EXPECT_LT(e.svg2_mask_compensated, e.svg2) << "seed " << seed;
    EXPECT_LT(e.ear, e.ear_mask_dropped) << "seed " << seed;
    EXPECT_LE(e.ear_density, e.svg2_density * 1.15) << "seed " << seed;
  }
}

std::unique_ptr<Svg2Backend> sparse_backend(AttentionMode mode, const AttentionConfig& config) {
  if (mode == AttentionMode::Svg2) return std::make_unique<Svg2Backend>(config);
  return std::make_unique<SvgEarBackend>(config);
}

// One k-means iteration per call, so that a warm start shows: the next step continues the step
// before from its centroids (1 + 1 iterations), which is bit for bit a fresh backend's 2-iteration
// init, and not the fresh 1-iteration start the fixed per-layer seed would give again.
TEST(SparseBackend, DeterministicAndWarmStarted) {
  test::ClusteredQKV x = test::clustered_qkv(1, 2, 613, 16, 9);
  for (AttentionMode mode : {AttentionMode::Svg2, AttentionMode::SvgEar}) {
    SCOPED_TRACE(attention_mode_name(mode));
    AttentionConfig config = small_config(mode);
    config.kmeans_init_iters = 1;
    config.kmeans_step_iters = 1;
    AttentionConfig two_iterations = config;
    two_iterations.kmeans_init_iters = 2;
    std::unique_ptr<Svg2Backend> a = sparse_backend(mode, config);
    at::Tensor first = a->forward(x.q, x.k, x.v, sparse_call(3));
    EXPECT_TRUE(at::equal(first, sparse_backend(mode, config)->forward(x.q, x.k, x.v, sparse_call(3))));
    at::Tensor next = a->forward(x.q, x.k, x.v, sparse_call(4));
    EXPECT_TRUE(at::equal(next, sparse_backend(mode, two_iterations)->forward(x.q, x.k, x.v, sparse_call(4))))
        << "step 4 must continue step 3's clustering";
    EXPECT_FALSE(at::equal(next, sparse_backend(mode, config)->forward(x.q, x.k, x.v, sparse_call(4))))
        << "a cold start must end elsewhere for this test to mean anything";
  }
}

// The DiT hands over V as a view of its tokens-first projection and merges the heads of the output
// with o.transpose(1, 2).reshape: both sparse backends read such V in place and, for one batch entry,
// return an output whose transpose is contiguous (the merge is then a view); the values are those
// of a call with contiguous V, bit for bit. Two batch entries get a contiguous output. V whose rows
// do not start on 16 bytes (a view into [B, N, H, d + 1] storage) is copied before the kernels'
// vector loads, with the same values again. d = 64 and 128, bf16 and fp16 on a GPU: the CUDA
// kernels' head dims and types, so the gathers, the probe and the attention kernel take the strides.
TEST(SparseBackend, ReadsTokensFirstValuesAndWritesTokensFirstOutput) {
  for (const int64_t batch : {1, 2}) {
    for (const int64_t d : {64, 128}) {
      test::ClusteredQKV x = test::clustered_qkv(batch, 2, 389, d, 17);
      for (const at::Device& device : devices()) {
        const std::vector<at::ScalarType> dtypes = device.is_cuda() ? std::vector<at::ScalarType>{at::kBFloat16, at::kHalf}
                                                                    : std::vector<at::ScalarType>{at::kFloat};
        for (const at::ScalarType dtype : dtypes) {
          at::Tensor q = x.q.to(device, dtype), k = x.k.to(device, dtype), v = x.v.to(device, dtype);
          at::Tensor v_tokens_first = v.transpose(1, 2).contiguous().transpose(1, 2);  // [B, H, N, d] view
          at::Tensor odd_storage = at::zeros({batch, 389, 2, d + 1}, v.options());
          odd_storage.narrow(3, 1, d).copy_(v.transpose(1, 2));
          at::Tensor v_unaligned = odd_storage.narrow(3, 1, d).transpose(1, 2);  // rows (d + 1) elements apart from element 1: off 16 bytes
          for (AttentionMode mode : {AttentionMode::Svg2, AttentionMode::SvgEar}) {
            SCOPED_TRACE(::testing::Message() << "B " << batch << " d " << d << " " << device << " " << dtype
                                              << " " << attention_mode_name(mode));
            const AttentionConfig config = small_config(mode);
            at::Tensor o = sparse_backend(mode, config)->forward(q, k, v_tokens_first, sparse_call());
            EXPECT_TRUE(at::equal(o, sparse_backend(mode, config)->forward(q, k, v, sparse_call())));
            EXPECT_TRUE(at::equal(o, sparse_backend(mode, config)->forward(q, k, v_unaligned, sparse_call())));
            EXPECT_EQ(o.transpose(1, 2).is_contiguous(), batch == 1);
            EXPECT_EQ(o.is_contiguous(), batch != 1);
          }
        }
      }
    }
  }
}

TEST(SparseBackend, DenseCallsGoThroughDenseAttention) {
  test::ClusteredQKV x = test::clustered_qkv(1, 2, 97, 16, 5);
  AttentionConfig config = small_config(AttentionMode::SvgEar);
  config.dense_warmup_steps = 0.5;
  SvgEarBackend ear(config);
  CollectingSink sink;
  TraceOptions options;
  options.enabled = true;
  ear.set_trace(options, &sink);
  AttentionCall layer0 = sparse_call();
  layer0.layer = 0;
  EXPECT_TRUE(at::equal(ear.forward(x.q, x.k, x.v, layer0), dense_attention(x)));
  EXPECT_TRUE(at::equal(ear.forward(x.q, x.k, x.v, sparse_call(/*step=*/4)), dense_attention(x)));
  EXPECT_TRUE(sink.traces.empty());
}

TEST(SparseBackend, KMeansInWarmUpMovesTheInitIntoTheDenseSteps) {
  // With kmeans_in_warmup, the dense step 0 runs the init (1 iteration here) and stays dense; the
  // first sparse step then warm-starts with 1 more, which is the same clustering as 2 iterations at
  // once, bit for bit, and not the 1-iteration cold start of a run without it. (Few iterations: at
  // 20 against 22 k-means has converged and a lost init would pass unseen.)
  test::ClusteredQKV x = test::clustered_qkv(1, 2, 389, 16, 6);
  AttentionConfig warmed = small_config(AttentionMode::SvgEar);
  warmed.dense_warmup_steps = 0.1;  // of 10 steps: step 0 is dense
  warmed.kmeans_in_warmup = true;
  warmed.kmeans_init_iters = 1;
  warmed.kmeans_step_iters = 1;
  AttentionConfig not_warmed = warmed;
  not_warmed.kmeans_in_warmup = false;
  AttentionConfig cold = not_warmed;
  cold.kmeans_init_iters = warmed.kmeans_init_iters + warmed.kmeans_step_iters;
  SvgEarBackend a(warmed), b(cold), c(not_warmed);
  EXPECT_TRUE(at::equal(a.forward(x.q, x.k, x.v, sparse_call(0)), dense_attention(x)));
  at::Tensor warm_first_sparse = a.forward(x.q, x.k, x.v, sparse_call(1));
  at::Tensor cold_first_sparse = b.forward(x.q, x.k, x.v, sparse_call(1));
  EXPECT_TRUE(at::equal(warm_first_sparse, cold_first_sparse))
      << "max abs difference " << (warm_first_sparse - cold_first_sparse).abs().max().item<double>();
  EXPECT_FALSE(at::equal(warm_first_sparse, c.forward(x.q, x.k, x.v, sparse_call(1))))
      << "without the warm-up's init the first sparse step must cluster otherwise";
}

TEST(SparseBackend, TracesSelectedHeadsWithAudit) {
  test::ClusteredQKV x = test::clustered_qkv(2, 3, 331, 16, 13);
  at::Tensor dense = dense_attention(x);
  for (AttentionMode mode : {AttentionMode::Svg2, AttentionMode::SvgEar}) {
    AttentionConfig config = small_config(mode);
    std::unique_ptr<Svg2Backend> backend = mode == AttentionMode::Svg2 ? std::make_unique<Svg2Backend>(config)
                                                                       : std::make_unique<SvgEarBackend>(config);
    CollectingSink sink;
    TraceOptions options;
    options.enabled = true;
    options.layers = {1};
    options.heads = {2};
    options.audit_layers = {1};
    backend->set_trace(options, &sink);
    at::Tensor o = backend->forward(x.q, x.k, x.v, sparse_call());
    AttentionCall other_layer = sparse_call();
    other_layer.layer = 2;
    backend->forward(x.q, x.k, x.v, other_layer);
    ASSERT_EQ(sink.traces.size(), 2u);  // head 2 of both batch entries, layer 1 only
    for (const RoutingTrace& t : sink.traces) {
      EXPECT_EQ(t.layer, 1);
      EXPECT_EQ(t.head, 2);
      EXPECT_EQ(t.step, 3);
      ASSERT_EQ(t.q_labels.size(), 331u);
      ASSERT_EQ(t.k_labels.size(), 331u);
      ASSERT_EQ(t.q_sizes.size(), 10u);
      ASSERT_EQ(t.k_sizes.size(), 40u);
      ASSERT_EQ(t.block_map.size(), 400u);
      int64_t q_total = 0, k_total = 0;
      for (int64_t s : t.q_sizes) q_total += s;
      for (int64_t s : t.k_sizes) k_total += s;
      EXPECT_EQ(q_total, 331);
      EXPECT_EQ(k_total, 331);
      EXPECT_GT(t.density, 0.0);
      EXPECT_LE(t.density, 1.0);
      at::Tensor head_o = o[t.batch][t.head];
      at::Tensor head_dense = dense[t.batch][t.head];
      EXPECT_NEAR(t.measured_relative_l2, test::relative_l2(head_o, head_dense), 1e-6);
      EXPECT_GE(t.kmeans_ms, 0.0);
      EXPECT_GE(t.attention_ms, 0.0);
      if (mode == AttentionMode::Svg2) {
        EXPECT_TRUE(std::isnan(t.estimated_log_error));
        EXPECT_TRUE(t.block_log_error.empty());
      } else {
        EXPECT_TRUE(std::isfinite(t.estimated_log_error));
        EXPECT_EQ(t.block_log_error.size(), 400u);
      }
    }
  }
}

// Two distinct queries among 64 tokens and 6 query clusters: at least four clusters are empty. A
// trace's block map routes no block of an empty query cluster (nothing is computed there), and at
// least one of every other, on each device; SVG-EAR's estimated error leaves the empty ones out.
TEST(SparseBackend, TracesRouteNothingForEmptyQueryClusters) {
  for (const at::Device device : devices()) {
    for (AttentionMode mode : {AttentionMode::Svg2, AttentionMode::SvgEar}) {
      at::manual_seed(17);
      const at::TensorOptions options = at::TensorOptions().device(device).dtype(
          device.is_cuda() ? at::kBFloat16 : at::kFloat);
      at::Tensor two = at::randn({2, 16}).to(options);
      at::Tensor q = two.index_select(0, (at::arange(64) % 2).to(device)).reshape({1, 1, 64, 16}).contiguous();
      at::Tensor k = at::randn({1, 1, 64, 16}).to(options);
      at::Tensor v = at::randn({1, 1, 64, 16}).to(options);
      AttentionConfig config = small_config(mode);
      config.q_clusters = 6;
      config.k_clusters = 8;
      config.top_p = 0.5;  // some blocks compensated
      std::unique_ptr<Svg2Backend> backend = mode == AttentionMode::Svg2 ? std::make_unique<Svg2Backend>(config)
                                                                         : std::make_unique<SvgEarBackend>(config);
      CollectingSink sink;
      TraceOptions trace;
      trace.enabled = true;
      backend->set_trace(trace, &sink);
      backend->forward(q, k, v, sparse_call());
      ASSERT_EQ(sink.traces.size(), 1u);
      const RoutingTrace& t = sink.traces[0];
      ASSERT_EQ(t.q_sizes.size(), 6u);
      int empty = 0;
      double compensated_sum = 0.0;  // Σ ε̂² over the compensated blocks of clusters with tokens
      for (int i = 0; i < 6; ++i) {
        int routed = 0;
        for (int j = 0; j < 8; ++j) {
          routed += t.block_map[i * 8 + j];
          if (mode == AttentionMode::SvgEar && t.q_sizes[i] > 0 && !t.block_map[i * 8 + j]) {
            compensated_sum += std::exp(double(t.block_log_error[i * 8 + j]));
          }
        }
        if (t.q_sizes[i] == 0) {
          ++empty;
          EXPECT_EQ(routed, 0) << attention_mode_name(mode) << " on " << device << ", query cluster " << i;
        } else {
          EXPECT_GT(routed, 0) << attention_mode_name(mode) << " on " << device << ", query cluster " << i;
        }
      }
      EXPECT_GE(empty, 4);
      // The estimate counts only what some token's output carries.
      if (mode == AttentionMode::SvgEar) {
        ASSERT_GT(compensated_sum, 0.0) << device;
        EXPECT_NEAR(t.estimated_log_error, std::log(compensated_sum), 1e-4) << device;
      }
    }
  }
}

// Issue 4's CUDA-graph-friendly call: a warm SVG-EAR call captured in a CUDA graph (capture fails on
// any host synchronisation; the graph replays the captured buffers, so their addresses must not
// change) and replayed with each step's inputs copied into the captured ones gives what eager calls
// of the same steps give. Each step has new inputs, so a replay that warm-started from stale
// centroids (the centroid cache not advancing in place) clusters differently.
TEST(SparseBackendCuda, WarmSvgEarCallReplaysFromACudaGraph) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
#if !SVGEAR_HAVE_CUDA
  GTEST_SKIP() << "a build without CUDA";
#else
  constexpr int kSteps = 5;  // 0 cold, 1 warm, 2 captured, 2..4 replayed
  // The replay runs the eager call's kernels in the same order: only a difference in how cuBLAS
  // splits the centroid logits on another stream could show, far below bf16's 2^-9.
  constexpr double kReplayTolerance = 1e-5;
  std::vector<test::ClusteredQKV> inputs;
  for (int step = 0; step < kSteps; ++step) {
    test::ClusteredQKV x = test::clustered_qkv(1, 3, 1500, 128, 40 + step);
    for (at::Tensor* t : {&x.q, &x.k, &x.v}) *t = t->to(at::kCUDA).to(at::kBFloat16);
    inputs.push_back(x);
  }
  const AttentionConfig config = small_config(AttentionMode::SvgEar);
  SvgEarBackend eager(config), graphed(config);
  test::ClusteredQKV fixed{at::empty_like(inputs[0].q), at::empty_like(inputs[0].k), at::empty_like(inputs[0].v)};
  auto load = [&](int step) {
    fixed.q.copy_(inputs[step].q);
    fixed.k.copy_(inputs[step].k);
    fixed.v.copy_(inputs[step].v);
  };
  at::cuda::CUDAGraph graph;
  at::Tensor captured;
  {
    // The warm-up calls run on the capture stream too (cuBLAS and the kernels' first-use setup
    // happen outside the capture), and the device is idle before the inputs change under them.
    const c10::cuda::CUDAStream stream = c10::cuda::getStreamFromPool();
    const c10::cuda::CUDAStreamGuard guard(stream);
    for (int step = 0; step < 2; ++step) {
      load(step);
      graphed.forward(fixed.q, fixed.k, fixed.v, sparse_call(step));
    }
    c10::cuda::device_synchronize();
    load(2);
    c10::cuda::device_synchronize();
    graph.capture_begin();
    captured = graphed.forward(fixed.q, fixed.k, fixed.v, sparse_call(2));
    graph.capture_end();
  }
  at::Tensor last_expected;
  for (int step = 0; step < kSteps; ++step) {
    last_expected = eager.forward(inputs[step].q, inputs[step].k, inputs[step].v, sparse_call(step));
    if (step < 2) continue;
    load(step);
    graph.replay();
    const double error = test::relative_l2(captured.to(at::kFloat), last_expected.to(at::kFloat));
    std::cout << "[ measured ] step " << step << ": graph replay vs eager call, relative L2 " << error << "\n";
    EXPECT_LT(error, kReplayTolerance) << "step " << step;
  }
  // The test can tell a cache that does not advance: the last step warm-started from step 1's
  // centroids instead of step 3's (what a replay of stale buffers would do) is far off.
  SvgEarBackend stale(config);
  stale.forward(inputs[0].q, inputs[0].k, inputs[0].v, sparse_call(0));
  stale.forward(inputs[1].q, inputs[1].k, inputs[1].v, sparse_call(1));
  const at::Tensor from_stale =
      stale.forward(inputs[kSteps - 1].q, inputs[kSteps - 1].k, inputs[kSteps - 1].v, sparse_call(kSteps - 1));
  const double stale_error = test::relative_l2(from_stale.to(at::kFloat), last_expected.to(at::kFloat));
  std::cout << "[ measured ] last step warm-started from step 1's centroids: relative L2 " << stale_error << "\n";
  EXPECT_GT(stale_error, 10 * kReplayTolerance) << "these inputs do not tell a stale warm start apart";
#endif
}

// A GPU without the kernels' sm_80 features runs every op of a sparse call through its ATen
// reference (kernels/common/kernel_path.h); KernelPath::Reference takes that path on this GPU. The
// whole call must work there and agree with the kernels': the same clusters but for k-means's near
// ties, so the two differ far less than either differs from dense attention.
TEST(SparseBackendCuda, ReferencePathAgreesWithTheKernels) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const test::ClusteredQKV x = test::clustered_qkv(1, 3, 1500, 128, 41);
  const at::TensorOptions gpu = at::TensorOptions(at::Device(at::kCUDA, 0)).dtype(at::kBFloat16);
  const at::Tensor q = x.q.to(gpu), k = x.k.to(gpu), v = x.v.to(gpu);
  const at::Tensor dense = DenseBackend().forward(q, k, v, sparse_call()).to(at::kFloat);
  for (AttentionMode mode : {AttentionMode::Svg2, AttentionMode::SvgEar}) {
    SCOPED_TRACE(mode == AttentionMode::Svg2 ? "svg2" : "svgear");
    auto two_calls = [&](KernelPath path) {
      const ScopedKernelPath choice(path);
      std::unique_ptr<Svg2Backend> backend = mode == AttentionMode::Svg2
                                                 ? std::make_unique<Svg2Backend>(small_config(mode))
                                                 : std::make_unique<SvgEarBackend>(small_config(mode));
      backend->forward(q, k, v, sparse_call(0));
      return backend->forward(q, k, v, sparse_call(1)).to(at::kFloat);  // cold, then warm
    };
    const at::Tensor kernels = two_calls(KernelPath::Fastest);
    const at::Tensor reference = two_calls(KernelPath::Reference);
    ASSERT_TRUE(reference.is_cuda());
    const double kernels_error = test::relative_l2(kernels, dense);
    const double reference_error = test::relative_l2(reference, dense);
    const double between = test::relative_l2(reference, kernels);
    std::cout << "[ measured ] relative L2 against dense: kernels " << kernels_error << ", references "
              << reference_error << "; between them " << between << "\n";
    EXPECT_GT(kernels_error, 1e-3) << "a sparse call this close to dense tells nothing";
    EXPECT_LT(between, 0.5 * kernels_error);
    EXPECT_NEAR(reference_error, kernels_error, 0.25 * kernels_error);
  }
}

// Tensors on a second GPU while the first is the current device: every op of the call launches
// on the tensors' device (launched on the current one, a kernel would read another GPU's memory)
// and leaves the current device as it was. Runs only where there are two GPUs.
TEST(SparseBackendCuda, CallOnASecondGpuRunsThere) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
#if !SVGEAR_HAVE_CUDA
  GTEST_SKIP() << "a build without CUDA";
#else
  if (c10::cuda::device_count() < 2) GTEST_SKIP() << "fewer than two CUDA devices";
  const c10::cuda::CUDAGuard on_first(0);
  const test::ClusteredQKV x = test::clustered_qkv(1, 3, 1500, 128, 40);
  const AttentionConfig config = small_config(AttentionMode::SvgEar);
  auto call_on = [&](int device) {
    const at::TensorOptions gpu = at::TensorOptions(at::Device(at::kCUDA, device)).dtype(at::kBFloat16);
    const at::Tensor q = x.q.to(gpu), k = x.k.to(gpu), v = x.v.to(gpu);
    SvgEarBackend backend(config);
    backend.forward(q, k, v, sparse_call(0));
    return backend.forward(q, k, v, sparse_call(1));  // cold, then warm
  };
  const at::Tensor expected = call_on(0);
  const at::Tensor got = call_on(1);
  EXPECT_EQ(got.device(), at::Device(at::kCUDA, 1));
  EXPECT_EQ(c10::cuda::current_device(), 0);
  // The same kernels on the same inputs; only cuBLAS's choices could differ between two devices.
  EXPECT_LT(test::relative_l2(got.cpu().to(at::kFloat), expected.cpu().to(at::kFloat)), 1e-3);
#endif
}

// Two host threads running sparse calls at once, each with its own backend (the studio runs the
// engine on one worker thread, a library user may run two): each thread's side stream is its own,
// so every call gives what it gives alone, bit for bit.
TEST(SparseBackendCuda, TwoHostThreadsAtOnceGetWhatEachGetsAlone) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  constexpr int kCalls = 4;
  std::vector<std::vector<at::Tensor>> inputs(2);
  for (int t = 0; t < 2; ++t) {
    const test::ClusteredQKV x = test::clustered_qkv(1, 3, 1500 + 257 * t, 128, 50 + t);
    for (const at::Tensor& tensor : {x.q, x.k, x.v}) inputs[t].push_back(tensor.to(at::kCUDA).to(at::kBFloat16));
  }
  auto calls = [&](int t) {
    SvgEarBackend backend(small_config(AttentionMode::SvgEar));
    std::vector<at::Tensor> out;
    for (int call = 0; call < kCalls; ++call) {
      out.push_back(backend.forward(inputs[t][0], inputs[t][1], inputs[t][2], sparse_call(call)));
    }
    return out;
  };
  const std::vector<at::Tensor> alone[2] = {calls(0), calls(1)};
  std::vector<at::Tensor> together[2];
  std::thread second([&] { together[1] = calls(1); });
  together[0] = calls(0);
  second.join();
  for (int t = 0; t < 2; ++t) {
    for (int call = 0; call < kCalls; ++call) {
      EXPECT_TRUE(at::equal(together[t][call], alone[t][call])) << "thread " << t << " call " << call;
    }
  }
}

// Tensors of more than 2³¹ elements (1 × 522 heads × 32760 tokens × 128: 4.4 GB each in bf16; the
// last ~10 heads lie past element 2³¹): every offset into Q, K, V, their cluster-ordered copies and
// the output must be 64-bit. The heads repeat three heads' clustered inputs, so each head must be
// about as close to dense attention as the others with its input; a 32-bit offset would read or
// write another head's rows (or fault). The spec's cluster counts; dense attention by slices.
TEST(SparseBackendCuda, TensorsPastTwoToThe31Elements) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
#if !SVGEAR_HAVE_CUDA
  GTEST_SKIP() << "a build without CUDA";
#else
  constexpr int64_t kGroup = 3, kHeads = 522, kTokens = 32760, kDim = 128;
  if (at::cuda::getDeviceProperties(0)->totalGlobalMem < (int64_t(64) << 30)) GTEST_SKIP() << "needs a 64 GB GPU";
  ASSERT_GT(kHeads * kTokens * kDim, int64_t(1) << 31);
  const test::ClusteredQKV x = test::clustered_qkv(1, kGroup, kTokens, kDim, 61);
  auto big = [](const at::Tensor& t) { return t.to(at::kCUDA).to(at::kBFloat16).repeat({1, kHeads / kGroup, 1, 1}); };
  const at::Tensor q = big(x.q), k = big(x.k), v = big(x.v);
  AttentionConfig config;
  config.mode = AttentionMode::SvgEar;
  config.q_clusters = 200;
  config.kmeans_init_iters = 5;
  config.dense_warmup_steps = 0.0;
  config.dense_layers = 0.0;
  const at::Tensor sparse = SvgEarBackend(config).forward(q, k, v, sparse_call());
  ASSERT_EQ(sparse.sizes(), q.sizes());
  std::vector<double> errors;
  constexpr int64_t kSlice = 58;  // heads per dense call: each well under 2³¹ elements
  for (int64_t h = 0; h < kHeads; h += kSlice) {
    const at::Tensor dense = DenseBackend().forward(q.narrow(1, h, kSlice), k.narrow(1, h, kSlice),
                                                    v.narrow(1, h, kSlice), sparse_call()).to(at::kFloat);
    const at::Tensor diff = sparse.narrow(1, h, kSlice).to(at::kFloat) - dense;
    const at::Tensor per_head = diff.square().sum({0, 2, 3}).sqrt() / dense.square().sum({0, 2, 3}).sqrt();
    for (int64_t i = 0; i < kSlice; ++i) errors.push_back(per_head[i].item<double>());
  }
  for (int64_t g = 0; g < kGroup; ++g) {
    std::vector<double> group;
    for (int64_t h = g; h < kHeads; h += kGroup) group.push_back(errors[h]);
    std::vector<double> sorted = group;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    std::cout << "[ measured ] input head " << g << ": relative L2 against dense, median " << median << ", range "
              << sorted.front() << " – " << sorted.back() << ", last head " << group.back() << "\n";
    EXPECT_GT(median, 1e-3) << "a sparse call this close to dense tells nothing";
    for (size_t i = 0; i < group.size(); ++i) {
      EXPECT_TRUE(std::isfinite(group[i]) && group[i] < 2.0 * median) << "head " << g + kGroup * int64_t(i);
    }
  }
#endif
}

}  // namespace
}  // namespace svgear
