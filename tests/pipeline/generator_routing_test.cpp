// Routing traces through the generator: GenerationRequest::routing_trace selects layers and heads,
// EventSink::on_routing receives them once per sparse step, and the video does not change.

#include <cmath>
#include <numeric>
#include <set>
#include <utility>

#include <gtest/gtest.h>

#include "core/pipeline/generator.h"
#include "core/pipeline/random_model.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

// Keeps every routing event with its own copy of the traces.
class RoutingRecorder : public EventSink {
 public:
  void on_routing(RoutingEvent e) override { steps.push_back(std::move(e)); }
  std::vector<RoutingEvent> steps;
};

class GeneratorRoutingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    folder_ = new std::filesystem::path(test::scratch_dir("generator_routing_model"));
    write_random_model(*folder_, random_model_preset("tiny"));  // 2 layers, 2 heads, 4×4 patches
  }
  static void TearDownTestSuite() { delete folder_; }
  static std::filesystem::path* folder_;

  // 5 steps of 32×32×4 (a 4×8×8 token grid, 256 tokens) with guidance, so every step runs a
  // conditional and an unconditional pass. The first step (0.2 · 5) and the first layer are dense.
  static GenerationRequest sparse_request(AttentionMode mode) {
    GenerationRequest r;
    r.prompt = "a red circle moves left over a blue sky";
    r.seed = 11;
    r.steps = 5;
    r.guidance = 3.0;
    r.attention.mode = mode;
    r.attention.q_clusters = 8;
    r.attention.k_clusters = 16;
    r.attention.top_p = 0.5;
    r.attention.dense_warmup_steps = 0.2;
    r.attention.dense_layers = 0.03;
    return r;
  }
};
std::filesystem::path* GeneratorRoutingTest::folder_ = nullptr;

constexpr int kTokens = 4 * 8 * 8;

TEST_F(GeneratorRoutingTest, SvgEarTracesTheSelectedHeadsOfSparseStepsOnly) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  Generator generator(*model);
  CancelToken cancel;

  GenerationRequest r = sparse_request(AttentionMode::SvgEar);
  r.routing_trace.enabled = true;
  r.routing_trace.layers = {0, 1};  // layer 0 is dense: it must send nothing
  r.routing_trace.heads = {1};
  r.routing_trace.audit_layers = {1};
  RoutingRecorder sink;
  const GenerationResult traced = generator.run(r, sink, cancel);
  ASSERT_EQ(traced.status, GenerationStatus::Finished) << traced.error;

  // Step 0 is a dense warm-up step: events for steps 1..4, one each.
  ASSERT_EQ(sink.steps.size(), 4u);
  for (size_t s = 0; s < sink.steps.size(); ++s) {
    const RoutingEvent& step = sink.steps[s];
    EXPECT_EQ(step.step, int(s) + 1);
    EXPECT_EQ(step.num_steps, 5);
    EXPECT_EQ(step.num_layers, 2);
    EXPECT_EQ(step.num_heads, 2);
    EXPECT_EQ(step.grid_frames, 4);
    EXPECT_EQ(step.grid_height, 8);
    EXPECT_EQ(step.grid_width, 8);
    // Layer 1, head 1 of the conditional pass only: the unconditional pass is not traced.
    ASSERT_EQ(step.traces.size(), 1u);
    const RoutingTrace& t = step.traces[0];
    EXPECT_EQ(t.step, step.step);
    EXPECT_EQ(t.layer, 1);
    EXPECT_EQ(t.head, 1);
    ASSERT_EQ(t.q_clusters, 8);
    ASSERT_EQ(t.k_clusters, 16);
    ASSERT_EQ(t.block_map.size(), size_t(8 * 16));
    ASSERT_EQ(t.block_log_error.size(), size_t(8 * 16));
    ASSERT_EQ(t.q_labels.size(), size_t(kTokens));
    ASSERT_EQ(t.k_labels.size(), size_t(kTokens));
    EXPECT_GT(t.density, 0.0);
    EXPECT_LE(t.density, 1.0);
    // a budget of 0.5 leaves some blocks to compensation
    const int exact = std::accumulate(t.block_map.begin(), t.block_map.end(), 0);
    EXPECT_GT(exact, 0);
    EXPECT_LT(exact, 8 * 16);

    // sizes count the labels
    EXPECT_EQ(std::accumulate(t.q_sizes.begin(), t.q_sizes.end(), int64_t(0)), kTokens);
    EXPECT_EQ(std::accumulate(t.k_sizes.begin(), t.k_sizes.end(), int64_t(0)), kTokens);
    std::vector<int64_t> q_counts(8), k_counts(16);
    for (int32_t label : t.q_labels) {
      ASSERT_TRUE(label >= 0 && label < 8) << label;
      ++q_counts[label];
    }
    for (int32_t label : t.k_labels) {
      ASSERT_TRUE(label >= 0 && label < 16) << label;
      ++k_counts[label];
    }
    EXPECT_EQ(q_counts, t.q_sizes);
    EXPECT_EQ(k_counts, t.k_sizes);

    // density is the exact blocks' share of the N² token pairs
    double pairs = 0.0;
    for (int i = 0; i < 8; ++i) {
      for (int j = 0; j < 16; ++j) {
        if (t.block_map[i * 16 + j]) pairs += double(t.q_sizes[i]) * double(t.k_sizes[j]);
      }
    }
    EXPECT_NEAR(t.density, pairs / (double(kTokens) * kTokens), 1e-9);

    // SVG-EAR has a probe, and layer 1 is audited against dense attention
    EXPECT_TRUE(std::isfinite(t.estimated_log_error));
    EXPECT_TRUE(std::isfinite(t.measured_relative_l2));
    EXPECT_GT(t.measured_relative_l2, 0.0);
    EXPECT_LT(t.measured_relative_l2, 1.0);
  }

  // Tracing is a side output: the same request without it makes the same video.
  r.routing_trace = TraceOptions{};
  RoutingRecorder untraced_sink;
  const GenerationResult untraced = generator.run(r, untraced_sink, cancel);
  ASSERT_EQ(untraced.status, GenerationStatus::Finished) << untraced.error;
  EXPECT_TRUE(untraced_sink.steps.empty());
  EXPECT_EQ(untraced.video.rgb, traced.video.rgb);
}

TEST_F(GeneratorRoutingTest, EmptySelectionsTraceEverySparseLayerAndHead) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  Generator generator(*model);
  CancelToken cancel;
  GenerationRequest r = sparse_request(AttentionMode::Svg2);
  r.routing_trace.enabled = true;  // empty layer and head lists: all
  RoutingRecorder sink;
  const GenerationResult result = generator.run(r, sink, cancel);
  ASSERT_EQ(result.status, GenerationStatus::Finished) << result.error;
  ASSERT_EQ(sink.steps.size(), 4u);
  for (const RoutingEvent& step : sink.steps) {
    std::set<std::pair<int, int>> seen;
    for (const RoutingTrace& t : step.traces) {
      seen.insert({t.layer, t.head});
      // SVG2 has no error probe, and no layer is audited
      EXPECT_TRUE(t.block_log_error.empty());
      EXPECT_TRUE(std::isnan(t.estimated_log_error));
      EXPECT_TRUE(std::isnan(t.measured_relative_l2));
      EXPECT_GT(t.density, 0.0);
      EXPECT_LE(t.density, 1.0);
    }
    EXPECT_EQ(step.traces.size(), 2u);
    EXPECT_EQ(seen, (std::set<std::pair<int, int>>{{1, 0}, {1, 1}}));
  }
}

TEST_F(GeneratorRoutingTest, DenseAttentionSendsNoRoutingEvents) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  Generator generator(*model);
  CancelToken cancel;
  GenerationRequest r = sparse_request(AttentionMode::Dense);
  r.routing_trace.enabled = true;
  RoutingRecorder sink;
  const GenerationResult result = generator.run(r, sink, cancel);
  ASSERT_EQ(result.status, GenerationStatus::Finished) << result.error;
  EXPECT_TRUE(sink.steps.empty());
}

TEST_F(GeneratorRoutingTest, SelectionsOutsideTheModelAreRefused) {
  auto model = Model::load(*folder_, c10::Device(c10::kCPU));
  Generator generator(*model);
  CancelToken cancel;
  EventSink quiet;
  GenerationRequest r = sparse_request(AttentionMode::SvgEar);
  r.routing_trace.enabled = true;
  r.routing_trace.layers = {2};
  GenerationResult result = generator.run(r, quiet, cancel);
  EXPECT_EQ(result.status, GenerationStatus::Failed);
  EXPECT_NE(result.error.find("layers 0 to 1"), std::string::npos) << result.error;

  r.routing_trace.layers = {};
  r.routing_trace.heads = {-1};
  result = generator.run(r, quiet, cancel);
  EXPECT_EQ(result.status, GenerationStatus::Failed);
  EXPECT_NE(result.error.find("heads 0 to 1"), std::string::npos) << result.error;
}

}  // namespace
}  // namespace svgear
