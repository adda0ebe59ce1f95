#include "kernels/error_probe/error_probe.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/kernels/synthetic_layout.h"
#include "tests/support/slow_stream_work.h"
#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

using test::SyntheticLayout;

struct ProbeCase {
  int64_t bh;
  int64_t tokens;
  int64_t head_dim;
  int64_t q_clusters;
  int64_t k_clusters;
};

// Probe inputs in the engine's layout, on the CPU.
struct ProbeInputs {
  SyntheticLayout q_layout;
  SyntheticLayout k_layout;
  at::Tensor q_centroids;  // [BH, Qc, d] f32
  at::Tensor k_centroids;  // [BH, Kc, d] f32
  at::Tensor kp;           // [BH, N, d]
  at::Tensor v;            // [BH, N, d] in token order, as the op takes it
  at::Tensor vp;           // [BH, N, d] v permuted, and
  at::Tensor v_means;      // [BH, Kc, d] f32 its cluster means (0 for empty clusters): the brute force's
  double scale = 0.0;
};

// v as the op's input, with the permuted rows and means the float64 evaluation reads (of v's own
// values, so of its rounding to a 16-bit dtype where it has one).
void set_values(ProbeInputs& in, const at::Tensor& v) {
  in.v = v;
  in.vp = test::permute_rows(v, in.k_layout.order);
  in.v_means = test::cluster_means(v, in.k_layout, at::zeros({v.size(0), in.k_layout.sizes.size(1), v.size(2)}));
}

ClusterLayout cluster_layout_of(const SyntheticLayout& layout, at::Device device) {
  return ClusterLayout{layout.order.to(device), layout.offsets.to(device)};
}

// Random tokens; centroids are the cluster means moved by a little noise, so that clusters of one
// token still have a nonzero error (with k̄ = k_t exactly their error is 0 and only the floor is seen).
// `k_layout` (or null: a random one) has c.tokens tokens in c.k_clusters clusters.
ProbeInputs random_probe_inputs(const ProbeCase& c, const SyntheticLayout* k_layout = nullptr) {
  ProbeInputs in;
  in.q_layout = test::random_layout(c.bh, c.tokens, c.q_clusters);
  in.k_layout = k_layout != nullptr ? *k_layout : test::random_layout(c.bh, c.tokens, c.k_clusters);
  at::Tensor q = at::randn({c.bh, c.tokens, c.head_dim});
  at::Tensor k = at::randn({c.bh, c.tokens, c.head_dim});
  at::Tensor v = at::randn({c.bh, c.tokens, c.head_dim});
  in.q_centroids = test::cluster_means(q, in.q_layout, at::randn({c.bh, c.q_clusters, c.head_dim})) +
                   0.1 * at::randn({c.bh, c.q_clusters, c.head_dim});
  in.k_centroids = test::cluster_means(k, in.k_layout, at::randn({c.bh, c.k_clusters, c.head_dim})) +
                   0.1 * at::randn({c.bh, c.k_clusters, c.head_dim});
  in.kp = test::permute_rows(k, in.k_layout.order);
  set_values(in, v);
  in.scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  return in;
}

// `behind_slow_work`: the centroids and values come out of ~1 TFLOP of matrix products queued on
// the current stream, so the op's side stream must wait for them, and its probe for the side stream.
// Every result is checked to be V permuted by the layout and its cluster means, gather_tokens_and_means's
// on the same device.
ProbeResult run_probe(const ProbeInputs& in, at::Device device, double gamma, bool behind_slow_work = false) {
  at::Tensor q_centroids = in.q_centroids.to(device), k_centroids = in.k_centroids.to(device);
  at::Tensor v = in.v.to(device);
  if (behind_slow_work) {
    q_centroids = q_centroids + test::zero_after_slow_work(device, q_centroids.scalar_type());
    k_centroids = k_centroids + test::zero_after_slow_work(device, k_centroids.scalar_type());
    v = v + test::zero_after_slow_work(device, v.scalar_type());
  }
  const ClusterLayout layout = cluster_layout_of(in.k_layout, device);
  ProbeResult result = error_probe(q_centroids, k_centroids, in.kp.to(device), v, layout,
                                   in.q_layout.sizes.to(device), in.scale, gamma);
  const GatheredMeans values = gather_tokens_and_means(v, layout);
  EXPECT_TRUE(at::equal(result.vp.cpu(), in.vp)) << "V permuted by the key layout";
  // Bit for bit on the kernel's path; ATen's means on the others may sum in another order.
  const bool kernel_path = device.is_cuda() && v.scalar_type() != at::kFloat && v.scalar_type() != at::kDouble;
  EXPECT_TRUE(kernel_path ? at::equal(result.v_means, values.means) : test::tensors_close(result.v_means, values.means, 1e-6))
      << "v̄ as gather_tokens_and_means";
  return result;
}

// The probe evaluated term by term in float64: log Σ_t ||a_t v_t − c v̄||² with every exponent shifted
// by the block's largest logit m, floored like the op (at 1e-8·e^{2m}). `condition` is
// κ = (S2 + 2c|S1| + c²n||v̄||²) / ε̂², how much the op's expanded fp32 form amplifies rounding, and
// `logit_magnitude` the largest s·Σ|q̄_d k_d| in the block, which bounds the fp32 error of its logits.
struct BruteForceProbe {
  at::Tensor log_error;        // [BH, Qc, Kc] f64
  at::Tensor condition;        // [BH, Qc, Kc] f64
  at::Tensor logit_magnitude;  // [BH, Qc, Kc] f64
};

BruteForceProbe brute_force_probe(const ProbeInputs& in) {
  at::Tensor qc = in.q_centroids.to(at::kDouble).contiguous();
  at::Tensor kc = in.k_centroids.to(at::kDouble).contiguous();
  at::Tensor kp = in.kp.to(at::kDouble).contiguous();
  at::Tensor vp = in.vp.to(at::kDouble).contiguous();
  at::Tensor vm = in.v_means.to(at::kDouble).contiguous();
  auto offsets = in.k_layout.offsets.accessor<int64_t, 2>();
  const int64_t bh = kp.size(0), tokens = kp.size(1), d = kp.size(2);
  const int64_t q_clusters = qc.size(1), k_clusters = kc.size(1);
  BruteForceProbe out{at::empty({bh, q_clusters, k_clusters}, at::kDouble),
                      at::empty({bh, q_clusters, k_clusters}, at::kDouble),
                      at::empty({bh, q_clusters, k_clusters}, at::kDouble)};
  auto log_error = out.log_error.accessor<double, 3>();
  auto condition = out.condition.accessor<double, 3>();
  auto logit_magnitude = out.logit_magnitude.accessor<double, 3>();
  auto dot = [d](const double* a, const double* b) {
    double s = 0.0;
    for (int64_t e = 0; e < d; ++e) s += a[e] * b[e];
    return s;
  };
  for (int64_t b = 0; b < bh; ++b) {
    for (int64_t i = 0; i < q_clusters; ++i) {
      const double* q = qc.data_ptr<double>() + (b * q_clusters + i) * d;
      for (int64_t j = 0; j < k_clusters; ++j) {
        const int64_t begin = offsets[b][j], end = offsets[b][j + 1];
        const double* vbar = vm.data_ptr<double>() + (b * k_clusters + j) * d;
        const double logit = in.scale * dot(q, kc.data_ptr<double>() + (b * k_clusters + j) * d);
        double m = logit;
        double magnitude = 0.0;
        for (int64_t t = begin; t < end; ++t) {
          const double* key = kp.data_ptr<double>() + (b * tokens + t) * d;
          m = std::max(m, in.scale * dot(q, key));
          double abs_sum = 0.0;
          for (int64_t e = 0; e < d; ++e) abs_sum += std::abs(q[e] * key[e]);
          magnitude = std::max(magnitude, in.scale * abs_sum);
        }
        const double c = std::exp(logit - m);
        double error = 0.0, s2 = 0.0, s1 = 0.0;
        for (int64_t t = begin; t < end; ++t) {
          const double* key = kp.data_ptr<double>() + (b * tokens + t) * d;
          const double* value = vp.data_ptr<double>() + (b * tokens + t) * d;
          const double a = std::exp(in.scale * dot(q, key) - m);
          for (int64_t e = 0; e < d; ++e) error += std::pow(a * value[e] - c * vbar[e], 2);
          s2 += a * a * dot(value, value);
          s1 += a * dot(vbar, value);
        }
        const double floored = std::max(error, 1e-8);
        const double mean_term = c * c * static_cast<double>(end - begin) * dot(vbar, vbar);
        log_error[b][i][j] = end == begin ? -std::numeric_limits<double>::infinity() : std::log(floored) + 2 * m;
        condition[b][i][j] = (s2 + 2 * c * std::abs(s1) + mean_term) / floored;
        logit_magnitude[b][i][j] = magnitude;
      }
    }
  }
  return out;
}

// Checks the op's log_error against the float64 evaluation: equal −inf for empty key clusters,
// otherwise |Δ| ≤ 1e-4 + 1e-6·(1 + logit magnitude)·κ, i.e. a few fp32 roundings of the logits
// (relative error ~1e-7 of their magnitude, doubled by e^{2z}) amplified by the cancellation κ.
// Returns the largest |Δ| / (1e-4 + 1e-6·(1 + magnitude)·κ) seen. `logit_error` replaces the 1e-6 for
// the CUDA kernel, whose token logits carry ~1e-5 relative error (q̄ in two 16-bit terms).
double expect_log_error_matches(const at::Tensor& actual, const BruteForceProbe& expected,
                                double logit_error = 1e-6) {
  at::Tensor got = actual.to(at::kCPU, at::kDouble);
  at::Tensor want = expected.log_error;
  at::Tensor empty = want.isneginf();
  EXPECT_TRUE(at::equal(got.isneginf(), empty)) << "−inf exactly where the key cluster is empty";
  EXPECT_TRUE(at::isfinite(got).logical_or(empty).all().item<bool>()) << "non-finite log_error";
  at::Tensor tolerance = 1e-4 + logit_error * (1.0 + expected.logit_magnitude) * expected.condition;
  at::Tensor ratio = ((got - want).abs() / tolerance).masked_fill(empty, 0.0);
  const double worst = ratio.max().item<double>();
  EXPECT_LE(worst, 1.0) << "log_error differs from float64 by more than its tolerance";
  return worst;
}

const std::vector<ProbeCase> kProbeCases = {
    // bh, tokens, head_dim, q_clusters, k_clusters
    {2, 37, 16, 5, 9},
    {3, 101, 32, 7, 120},  // Kc > N: most key clusters are empty
    {1, 64, 8, 3, 4},
};

void check_log_error_matches_brute_force(at::Device device) {
  at::manual_seed(11);
  for (const ProbeCase& c : kProbeCases) {
    SCOPED_TRACE(::testing::Message() << "bh " << c.bh << " N " << c.tokens << " d " << c.head_dim << " Qc "
                                      << c.q_clusters << " Kc " << c.k_clusters);
    ProbeInputs in = random_probe_inputs(c);
    ProbeResult result = run_probe(in, device, 1.0);
    BruteForceProbe expected = brute_force_probe(in);
    const double worst = expect_log_error_matches(result.log_error, expected);
    std::cout << "[ measured ] log_error vs float64: worst |Δ| / tolerance = " << worst << "\n";
    EXPECT_EQ(result.log_error.device().type(), device.type());
  }
}

TEST(ErrorProbe, CentroidLogitsAreScaledFp32Products) {
  at::manual_seed(3);
  at::Tensor q = at::randn({3, 7, 16});
  at::Tensor k = at::randn({3, 11, 16});
  at::Tensor logits = centroid_logits(q, k, 0.25);
  ASSERT_EQ(logits.sizes(), at::IntArrayRef({3, 7, 11}));
  ASSERT_EQ(logits.scalar_type(), at::kFloat);
  at::Tensor expected = at::bmm(q.to(at::kDouble), k.to(at::kDouble).transpose(1, 2)) * 0.25;
  EXPECT_TRUE(test::tensors_close(logits, expected, 1e-6));
  EXPECT_THROW(centroid_logits(q.to(at::kBFloat16), k, 0.25), c10::Error);
  EXPECT_THROW(centroid_logits(q, at::randn({3, 11, 8}), 0.25), c10::Error);
}

TEST(ErrorProbe, LogErrorMatchesFloat64BruteForce) { check_log_error_matches_brute_force(at::kCPU); }

TEST(ErrorProbe, LogErrorMatchesFloat64BruteForceOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_log_error_matches_brute_force(at::kCUDA);
}

// The CUDA kernel (bf16 / fp16 keys and values, d 64 and 128) against the float64 evaluation of the
// same rounded inputs; its score is its log_error minus γ·log of the block area.
void check_kernel_matches_brute_force(at::ScalarType dtype, bool behind_slow_work = false) {
  at::manual_seed(13);
  const std::vector<ProbeCase> cases = {
      // bh, tokens, head_dim, q_clusters, k_clusters
      {2, 1000, 128, 37, 300},  // key tiles span several clusters; chunks of 16 clusters, last partial
      {3, 130, 64, 5, 200},     // Kc > N: most key clusters empty
      {1, 4099, 64, 70, 64},    // clusters of ~64 keys crossing tile edges; a partial query tile
      {1, 2000, 128, 9, 3},     // clusters of hundreds of keys: one block summed over many tiles
      {2, 600, 64, 66, 500},    // clusters of one or two keys: dozens of runs per key tile
      {2, 20, 128, 3, 1000},    // chunks of 16 clusters with no key at all: no tile to stream
      {2, 1500, 128, 200, 90},  // two query tiles of 128 rows, 72 in the last (Wan-1.3B's Qc)
      {1, 900, 64, 129, 41},    // a second query tile of one row
  };
  const at::Device cuda(at::kCUDA, 0);
  for (const ProbeCase& c : cases) {
    SCOPED_TRACE(::testing::Message() << dtype << " bh " << c.bh << " N " << c.tokens << " d " << c.head_dim
                                      << " Qc " << c.q_clusters << " Kc " << c.k_clusters);
    ProbeInputs in = random_probe_inputs(c);
    in.kp = in.kp.to(dtype);
    set_values(in, in.v.to(dtype));
    const double gamma = 0.7;
    ProbeResult result = run_probe(in, cuda, gamma, behind_slow_work);
    ASSERT_TRUE(result.log_error.is_cuda());
    ProbeInputs rounded = in;
    rounded.kp = in.kp.to(at::kFloat);
    rounded.vp = in.vp.to(at::kFloat);
    const double worst = expect_log_error_matches(result.log_error, brute_force_probe(rounded), 2e-5);
    std::cout << "[ measured ] CUDA kernel log_error vs float64: worst |Δ| / tolerance = " << worst << "\n";
    at::Tensor area = in.q_layout.sizes.to(at::kFloat).unsqueeze(2) * in.k_layout.sizes.to(at::kFloat).unsqueeze(1);
    at::Tensor expected_score = result.log_error.cpu() - gamma * area.clamp_min(1e-8).log();
    at::Tensor finite = at::isfinite(expected_score);
    EXPECT_TRUE(at::equal(at::isfinite(result.score.cpu()), finite));
    EXPECT_TRUE(at::allclose(result.score.cpu().masked_select(finite), expected_score.masked_select(finite), 1e-5,
                             1e-4));
    EXPECT_TRUE(test::tensors_close(result.centroid_logits.cpu(),
                                    centroid_logits(in.q_centroids, in.k_centroids, in.scale), 1e-6));
  }
}

TEST(ErrorProbe, KernelMatchesFloat64Bf16OnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_kernel_matches_brute_force(at::kBFloat16);
}

TEST(ErrorProbe, KernelMatchesFloat64Fp16OnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_kernel_matches_brute_force(at::kHalf);
}

// The centroid logits and q̄'s terms run on a side stream beside the value statistics: with the
// inputs written late on the current stream, a missing fork or join changes the results.
TEST(ErrorProbe, KernelMatchesFloat64BehindSlowWorkOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_kernel_matches_brute_force(at::kBFloat16, true);
}

// The DiT hands V over tokens first ([N, H, d] at B = 1, viewed as [H, N, d]); the kernel reads
// its rows in place through the strides, with the same results as from a contiguous copy.
TEST(ErrorProbe, ReadsTokensFirstValuesInPlaceOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(21);
  const at::Device cuda(at::kCUDA, 0);
  for (const ProbeCase& c : {ProbeCase{3, 700, 128, 40, 90}, ProbeCase{2, 333, 64, 7, 400}}) {
    SCOPED_TRACE(::testing::Message() << "d " << c.head_dim);
    ProbeInputs in = random_probe_inputs(c);
    in.kp = in.kp.to(at::kBFloat16);
    set_values(in, in.v.to(at::kBFloat16));
    const at::Tensor tokens_first = in.v.transpose(0, 1).contiguous().to(cuda).transpose(0, 1);  // [BH, N, d] view
    ASSERT_FALSE(tokens_first.is_contiguous());
    const ClusterLayout layout = cluster_layout_of(in.k_layout, cuda);
    const auto probe = [&](const at::Tensor& v) {
      return error_probe(in.q_centroids.to(cuda), in.k_centroids.to(cuda), in.kp.to(cuda), v, layout,
                         in.q_layout.sizes.to(cuda), in.scale, 1.0);
    };
    const ProbeResult strided = probe(tokens_first);
    const ProbeResult contiguous = probe(in.v.to(cuda));
    EXPECT_TRUE(at::equal(strided.vp.cpu(), in.vp));
    EXPECT_TRUE(at::equal(strided.v_means, contiguous.v_means));
    EXPECT_TRUE(at::equal(strided.log_error, contiguous.log_error));
    EXPECT_TRUE(at::equal(strided.score, contiguous.score));
  }
}

// value_gather_kernel reads a cluster's first 32 rows back from a per-warp copy in shared memory
// and the rest from V's gathered rows, in rounds of 16 rows at d = 128 and 32 at d = 64: clusters
// of exactly the sizes at those edges (and empty, single and long ones), bf16 and fp16.
TEST(ErrorProbe, ClusterSizesAtTheValueCopysEdgesOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(23);
  const at::Device cuda(at::kCUDA, 0);
  const std::vector<int64_t> sizes = {0, 1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 96, 97, 200, 0};
  int64_t tokens = 0;
  for (const int64_t n : sizes) tokens += n;
  for (const at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
    for (const int64_t head_dim : {64, 128}) {
      SCOPED_TRACE(::testing::Message() << dtype << " d " << head_dim);
      const SyntheticLayout k_layout = test::layout_of_sizes(3, sizes);  // each head's sizes rotated
      ProbeInputs in = random_probe_inputs({3, tokens, head_dim, 11, int64_t(sizes.size())}, &k_layout);
      in.kp = in.kp.to(dtype);
      set_values(in, in.v.to(dtype));
      ProbeResult result = run_probe(in, cuda, 1.0);  // vp and v̄ bit for bit
      ProbeInputs rounded = in;
      rounded.kp = in.kp.to(at::kFloat);
      rounded.vp = in.vp.to(at::kFloat);
      const double worst = expect_log_error_matches(result.log_error, brute_force_probe(rounded), 2e-5);
      std::cout << "[ measured ] log_error vs float64 at the copy's edges: worst |Δ| / tolerance = " << worst << "\n";
    }
  }
}

// A cluster of one key whose centroid is that key (k-means leaves every non-empty centroid at its
// cluster's mean) is compensated exactly: its error is the floor, 1e-8·e^{2ℓ}, not the fp32 noise of
// the expanded form (~1e-7·||v||²·e^{2ℓ}), which ranked such blocks above real errors on CUDA. The
// kernel's token logits carry ~1e-5 relative error, so there the bound is 1e-6·e^{2ℓ}.
void check_singletons_at_their_key_have_no_error(at::Device device, at::ScalarType dtype) {
  at::manual_seed(17);
  const ProbeCase c{2, 90, 64, 5, 70};  // 90 keys in 70 clusters: dozens of clusters of one
  ProbeInputs in;
  in.q_layout = test::random_layout(c.bh, c.tokens, c.q_clusters);
  in.k_layout = test::random_layout(c.bh, c.tokens, c.k_clusters);
  const at::Tensor k = at::randn({c.bh, c.tokens, c.head_dim}).to(dtype).to(at::kFloat);
  in.q_centroids = at::randn({c.bh, c.q_clusters, c.head_dim});
  in.k_centroids = test::cluster_means(k, in.k_layout, at::randn({c.bh, c.k_clusters, c.head_dim}));
  in.kp = test::permute_rows(k, in.k_layout.order).to(dtype);
  set_values(in, at::randn({c.bh, c.tokens, c.head_dim}).to(dtype));
  in.scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  const ProbeResult result = run_probe(in, device, 1.0);
  const at::Tensor singleton = (in.k_layout.sizes == 1).unsqueeze(1).expand_as(result.log_error.cpu());
  ASSERT_GT(singleton.sum().item<int64_t>(), 20 * c.q_clusters);
  const at::Tensor excess = (result.log_error.cpu().to(at::kDouble) - 2.0 * result.centroid_logits.cpu().to(at::kDouble))
                                .masked_select(singleton);
  const double bound = std::log(device.is_cuda() ? 1e-6 : 1e-8) + 1e-3;
  std::cout << "[ measured ] clusters of one: log ε̂² − 2ℓ at most " << excess.max().item<double>() << " (bound "
            << bound << ")\n";
  EXPECT_LE(excess.max().item<double>(), bound);
}

TEST(ErrorProbe, ClustersOfOneAtTheirKeyHaveNoError) {
  check_singletons_at_their_key_have_no_error(at::kCPU, at::kFloat);
}

TEST(ErrorProbe, ClustersOfOneAtTheirKeyHaveNoErrorOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_singletons_at_their_key_have_no_error(at::kCUDA, at::kBFloat16);
}

TEST(ErrorProbe, ScoreIsErrorPerArea) {
  at::manual_seed(5);
  ProbeInputs in = random_probe_inputs({2, 37, 16, 5, 9});
  for (const double gamma : {1.0, 0.5}) {
    ProbeResult result = run_probe(in, at::kCPU, gamma);
    at::Tensor area = in.q_layout.sizes.unsqueeze(2).to(at::kDouble) * in.k_layout.sizes.unsqueeze(1).to(at::kDouble);
    at::Tensor expected = result.log_error.to(at::kDouble) - gamma * area.clamp_min(1e-8).log();
    at::Tensor finite = at::isfinite(expected);
    EXPECT_TRUE(at::equal(at::isfinite(result.score), finite));
    EXPECT_TRUE(at::allclose(result.score.to(at::kDouble).masked_select(finite), expected.masked_select(finite),
                             1e-6, 1e-5));
    EXPECT_TRUE(at::equal(result.centroid_logits, centroid_logits(in.q_centroids, in.k_centroids, in.scale)));
  }
}

// Logits ≈ 100: e^{2·100} is far beyond fp32 (max ≈ e^88.7), which is where the reference kernel's
// err·e^{2m} overflows (spec P8). fp32 keys and values take the ATen path, bf16 / fp16 the kernel's.
void check_no_overflow_at_large_logits(at::Device device, at::ScalarType dtype = at::kFloat, int64_t head_dim = 16) {
  at::manual_seed(7);
  const ProbeCase c{2, 101, head_dim, 4, 12};
  ProbeInputs in = random_probe_inputs(c);
  // Queries and keys along one direction u with s·a²·|u|² = 100 (|u| = 1), plus small noise.
  const double a = std::sqrt(100.0 / in.scale);
  at::Tensor u = at::randn({c.head_dim});
  u = u / u.norm();
  in.q_centroids = a * u + 0.05 * at::randn({c.bh, c.q_clusters, c.head_dim});
  at::Tensor k = (a * u + 0.05 * at::randn({c.bh, c.tokens, c.head_dim})).to(dtype).to(at::kFloat);
  in.k_centroids = test::cluster_means(k, in.k_layout, a * u.expand({c.bh, c.k_clusters, c.head_dim})) +
                   0.01 * at::randn({c.bh, c.k_clusters, c.head_dim});
  in.kp = test::permute_rows(k, in.k_layout.order).to(dtype);
  set_values(in, in.v.to(dtype));
  ProbeResult result = run_probe(in, device, 1.0);
  at::Tensor logits = result.centroid_logits;
  EXPECT_GT(logits.min().item<double>(), 90.0);
  EXPECT_LT(logits.max().item<double>(), 110.0);
  ProbeInputs rounded = in;
  rounded.kp = in.kp.to(at::kFloat);
  rounded.vp = in.vp.to(at::kFloat);
  BruteForceProbe expected = brute_force_probe(rounded);
  const double worst = expect_log_error_matches(result.log_error, expected, dtype == at::kFloat ? 1e-6 : 2e-5);
  at::Tensor finite = at::isfinite(result.log_error);
  EXPECT_GT(result.log_error.masked_select(finite).max().item<double>(), 2 * 88.7) << "not past fp32's range";
  EXPECT_TRUE(at::isfinite(result.score).logical_or(result.log_error.isneginf()).all().item<bool>());
  std::cout << "[ measured ] logits ~100: worst |Δ| / tolerance = " << worst << "\n";
}

TEST(ErrorProbe, NoOverflowAtLargeLogits) { check_no_overflow_at_large_logits(at::kCPU); }

TEST(ErrorProbe, NoOverflowAtLargeLogitsOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_no_overflow_at_large_logits(at::kCUDA);
  for (const int64_t head_dim : {64, 128}) {
    SCOPED_TRACE(::testing::Message() << "the kernel, bf16, d " << head_dim);
    check_no_overflow_at_large_logits(at::kCUDA, at::kBFloat16, head_dim);
  }
}

// Spearman rank correlation of two equally long vectors without ties.
double spearman(const at::Tensor& a, const at::Tensor& b) {
  at::Tensor ra = a.argsort().argsort().to(at::kDouble);
  at::Tensor rb = b.argsort().argsort().to(at::kDouble);
  ra = ra - ra.mean();
  rb = rb - rb.mean();
  return ((ra * rb).sum() / (ra.norm() * rb.norm())).item<double>();
}

// The error the probe estimates, measured: for each block (i, j), Σ over the query tokens q of
// cluster i of ||o_j(q) − o(q)||², where o is exact dense attention and o_j the same with only key
// cluster j replaced by its compensation term n_j·e^{s·q·k̄_j}·v̄_j (spec §3.2). Float64, [Qc, Kc].
at::Tensor true_compensation_error(const ProbeInputs& in, const at::Tensor& qp, int64_t b) {
  at::Tensor q = qp[b].to(at::kDouble);             // [N, d]
  at::Tensor k = in.kp[b].to(at::kDouble);          // [N, d]
  at::Tensor v = in.vp[b].to(at::kDouble);          // [N, d]
  at::Tensor kbar = in.k_centroids[b].to(at::kDouble);  // [Kc, d]
  at::Tensor vbar = in.v_means[b].to(at::kDouble);      // [Kc, d]
  at::Tensor sizes = in.k_layout.sizes[b].to(at::kDouble);  // [Kc]
  at::Tensor logits = at::mm(q, k.t()) * in.scale;  // [N, N]
  at::Tensor row_max = logits.amax(1, true);         // [N, 1]
  at::Tensor w = (logits - row_max).exp();           // [N, N]
  at::Tensor den = w.sum(1, true);                   // [N, 1]
  at::Tensor num = at::mm(w, v);                     // [N, d]
  at::Tensor exact = num / den;                      // [N, d]
  const int64_t k_clusters = sizes.size(0);
  const int64_t q_clusters = in.q_layout.sizes.size(1);
  at::Tensor virtual_w = sizes * (at::mm(q, kbar.t()) * in.scale - row_max).exp();  // [N, Kc]
  at::Tensor per_token = at::zeros({q.size(0), k_clusters}, at::kDouble);            // [N, Kc]
  for (int64_t j = 0; j < k_clusters; ++j) {
    const int64_t begin = in.k_layout.offsets[b][j].item<int64_t>(), end = in.k_layout.offsets[b][j + 1].item<int64_t>();
    at::Tensor w_block = w.slice(1, begin, end);  // [N, n_j]
    at::Tensor cw = virtual_w.select(1, j).unsqueeze(1);  // [N, 1]
    at::Tensor compensated = (num - at::mm(w_block, v.slice(0, begin, end)) + cw * vbar[j]) /
                             (den - w_block.sum(1, true) + cw);  // [N, d]
    per_token.select(1, j).copy_((compensated - exact).square().sum(1));
  }
  at::Tensor ends = in.q_layout.offsets[b].slice(0, 1);  // row r lies in cluster #(ends ≤ r)
  at::Tensor q_cluster = at::searchsorted(ends, at::arange(q.size(0), at::kLong), false, true);  // [N]
  return at::zeros({q_clusters, k_clusters}, at::kDouble).index_add_(0, q_cluster, per_token);  // [Qc, Kc]
}

struct RankCorrelation {
  double probe_mean_row = 0.0;   // mean over rows of Spearman(log ε̂²_i·, true error_i·)
  double probe_worst_row = 1.0;
  double probe_global = 0.0;     // over all blocks, log ε̂² − 2·log Z_i (Z_i from the centroid logits)
  double mass_mean_row = 0.0;    // the same with SVG2's attention-mass estimate ℓ_ij + log n_j instead
};

// Clustered synthetic data: tokens scattered (σ = 0.3) around well separated centres
// (|centre| ≈ 1.5·√d), values clustered too (σ = 0.5), centroids = cluster means as k-means returns.
RankCorrelation measure_rank_correlation(uint64_t seed) {
  at::manual_seed(seed);
  const int64_t bh = 2, tokens = 512, d = 32, q_clusters = 8, k_clusters = 32;
  ProbeInputs in;
  in.q_layout = test::random_layout(bh, tokens, q_clusters);
  in.k_layout = test::random_layout(bh, tokens, k_clusters);
  auto clustered = [&](const SyntheticLayout& layout, int64_t clusters, double spread) {
    at::Tensor centres = 1.5 * at::randn({bh, clusters, d});
    at::Tensor index = layout.labels.unsqueeze(-1).expand({bh, tokens, d});
    return centres.gather(1, index) + spread * at::randn({bh, tokens, d});
  };
  at::Tensor q = clustered(in.q_layout, q_clusters, 0.3);
  at::Tensor k = clustered(in.k_layout, k_clusters, 0.3);
  at::Tensor v = clustered(in.k_layout, k_clusters, 0.5);
  in.q_centroids = test::cluster_means(q, in.q_layout, at::randn({bh, q_clusters, d}));
  in.k_centroids = test::cluster_means(k, in.k_layout, at::randn({bh, k_clusters, d}));
  in.kp = test::permute_rows(k, in.k_layout.order);
  set_values(in, v);
  in.scale = 1.0 / std::sqrt(static_cast<double>(d));
  at::Tensor qp = test::permute_rows(q, in.q_layout.order);
  ProbeResult result = run_probe(in, at::kCPU, 1.0);

  RankCorrelation out;
  int64_t rows = 0;
  std::vector<at::Tensor> all_estimates, all_truths;
  for (int64_t b = 0; b < bh; ++b) {
    at::Tensor truth = true_compensation_error(in, qp, b);  // [Qc, Kc]
    at::Tensor nonempty = in.k_layout.sizes[b] > 0;          // [Kc]
    at::Tensor mass = result.centroid_logits[b].to(at::kDouble) + in.k_layout.sizes[b].to(at::kDouble).log();  // [Qc, Kc]
    at::Tensor log_z = mass.logsumexp(1, true);  // [Qc, 1]
    for (int64_t i = 0; i < q_clusters; ++i) {
      if (in.q_layout.sizes[b][i].item<int64_t>() == 0) continue;  // no queries: no error to rank
      at::Tensor estimate = result.log_error[b][i].to(at::kDouble).masked_select(nonempty);
      at::Tensor measured = truth[i].masked_select(nonempty);
      const double rho = spearman(estimate, measured);
      out.probe_mean_row += rho;
      out.probe_worst_row = std::min(out.probe_worst_row, rho);
      out.mass_mean_row += spearman(mass[i].masked_select(nonempty), measured);
      ++rows;
      all_estimates.push_back(estimate - 2.0 * log_z[i]);
      all_truths.push_back(measured);
    }
  }
  out.probe_mean_row /= static_cast<double>(rows);
  out.mass_mean_row /= static_cast<double>(rows);
  out.probe_global = spearman(at::cat(all_estimates), at::cat(all_truths));
  return out;
}

// Does log ε̂² order blocks like the true compensation error? Routing compares blocks only within a
// row, so the within-row rank correlation is what matters; the global one (normalised by the row's
// estimated Z_i², as in the bound of spec §3.5) is checked too. Measured on seeds 1..8: within-row
// mean 0.985–0.991 (worst single row 0.972), global 0.915–0.949; SVG2's attention mass ℓ + log n ranks
// the same blocks at 0.928–0.972 within rows, below the probe on every seed (margin ≥ 0.018).
// Thresholds 0.95 and 0.88 sit ≥ 0.03 below every measured value; "probe beats attention mass" is the
// sharper check: a probe that lost its value statistics degrades towards the mass ranking.
TEST(ErrorProbe, RanksBlocksLikeTrueCompensationError) {
  for (const uint64_t seed : {1, 2, 3}) {
    const RankCorrelation rank = measure_rank_correlation(seed);
    std::cout << "[ measured ] seed " << seed << ": Spearman(probe, true compensation error) within-row mean "
              << rank.probe_mean_row << " (worst row " << rank.probe_worst_row << "), global (÷Z_i²) "
              << rank.probe_global << "; attention mass within-row mean " << rank.mass_mean_row << "\n";
    EXPECT_GT(rank.probe_mean_row, 0.95) << "seed " << seed;
    EXPECT_GT(rank.probe_global, 0.88) << "seed " << seed;
    EXPECT_GT(rank.probe_mean_row, rank.mass_mean_row) << "seed " << seed;
  }
}

TEST(ErrorProbe, RejectsBadInputs) {
  at::manual_seed(1);
  ProbeInputs in = random_probe_inputs({2, 37, 16, 5, 9});
  auto probe = [&](const at::Tensor& kp, const at::Tensor& v, const at::Tensor& order, const at::Tensor& offsets,
                   const at::Tensor& q_sizes) {
    return error_probe(in.q_centroids, in.k_centroids, kp, v, ClusterLayout{order, offsets}, q_sizes, in.scale, 1.0);
  };
  const at::Tensor& order = in.k_layout.order;
  const at::Tensor& offsets = in.k_layout.offsets;
  EXPECT_NO_THROW(probe(in.kp, in.v, order, offsets, in.q_layout.sizes));
  EXPECT_THROW(probe(in.kp.slice(2, 0, 8), in.v, order, offsets, in.q_layout.sizes), c10::Error);
  EXPECT_THROW(probe(in.kp, in.v.slice(1, 1), order, offsets, in.q_layout.sizes), c10::Error);
  EXPECT_THROW(probe(in.kp, in.v.to(at::kDouble), order, offsets, in.q_layout.sizes), c10::Error);
  EXPECT_THROW(probe(in.kp, in.v, order.slice(1, 1), offsets, in.q_layout.sizes), c10::Error);
  EXPECT_THROW(probe(in.kp, in.v, order.to(at::kInt), offsets, in.q_layout.sizes), c10::Error);
  EXPECT_THROW(probe(in.kp, in.v, order, offsets.slice(1, 1), in.q_layout.sizes), c10::Error);
  EXPECT_THROW(probe(in.kp, in.v, order, offsets.to(at::kInt), in.q_layout.sizes), c10::Error);
  EXPECT_THROW(probe(in.kp, in.v, order, offsets, in.q_layout.sizes.slice(1, 1)), c10::Error);
}

}  // namespace
}  // namespace svgear
