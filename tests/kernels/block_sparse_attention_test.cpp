#include "kernels/block_sparse_attention/block_sparse_attention.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "svgear/build_config.h"
#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>

#include "kernels/block_sparse_attention/block_sparse_attention_cuda.cuh"
#include "kernels/block_sparse_attention/query_tiles.cuh"
#endif

#include "tests/kernels/synthetic_layout.h"
#include "tests/support/slow_stream_work.h"
#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

using test::SyntheticLayout;

struct AttentionCase {
  int64_t bh;
  int64_t tokens;
  int64_t head_dim;
  int64_t q_clusters;
  int64_t k_clusters;
};

// Every case has an empty cluster and a cluster of one token per head (test::random_layout).
const std::vector<AttentionCase> kCases = {
    // bh, tokens, head_dim, q_clusters, k_clusters
    {2, 37, 16, 4, 50},  // more key clusters than keys
    {3, 101, 32, 7, 13},
    {1, 64, 8, 3, 3},
};

// Tokens in the original order and their permuted, clustered form, on the CPU.
struct AttentionInputs {
  SyntheticLayout q_layout;
  SyntheticLayout k_layout;
  at::Tensor q, k, v;     // [BH, N, d] original order
  at::Tensor qp, kp, vp;  // [BH, N, d] permuted
  at::Tensor k_centroids;  // [BH, Kc, d]
  at::Tensor v_means;      // [BH, Kc, d]
  double scale = 0.0;
};

// Keys and values are random, or with `constant_clusters` equal to their cluster's centre, in which
// case compensation is exact. Empty clusters get random centroids and means: they must never count.
// The query clusters are random, or `q_layout` when given (c.tokens and c.q_clusters must match it).
AttentionInputs make_inputs(const AttentionCase& c, bool constant_clusters, const SyntheticLayout* q_layout = nullptr) {
  AttentionInputs in;
  in.q_layout = q_layout ? *q_layout : test::random_layout(c.bh, c.tokens, c.q_clusters);
  in.k_layout = test::random_layout(c.bh, c.tokens, c.k_clusters);
  in.q = at::randn({c.bh, c.tokens, c.head_dim});
  if (constant_clusters) {
    at::Tensor index = in.k_layout.labels.unsqueeze(-1).expand({c.bh, c.tokens, c.head_dim});  // [BH, N, d]
    in.k = at::randn({c.bh, c.k_clusters, c.head_dim}).gather(1, index);
    in.v = at::randn({c.bh, c.k_clusters, c.head_dim}).gather(1, index);
  } else {
    in.k = at::randn({c.bh, c.tokens, c.head_dim});
    in.v = at::randn({c.bh, c.tokens, c.head_dim});
  }
  in.k_centroids = test::cluster_means(in.k, in.k_layout, at::randn({c.bh, c.k_clusters, c.head_dim}));
  in.v_means = test::cluster_means(in.v, in.k_layout, at::randn({c.bh, c.k_clusters, c.head_dim}));
  in.qp = test::permute_rows(in.q, in.q_layout.order);
  in.kp = test::permute_rows(in.k, in.k_layout.order);
  in.vp = test::permute_rows(in.v, in.k_layout.order);
  in.scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  return in;
}

// A random mask in which each head's first query cluster routes nothing.
at::Tensor random_mask(const AttentionCase& c, double density) {
  at::Tensor mask = at::rand({c.bh, c.q_clusters, c.k_clusters}) < density;  // [BH, Qc, Kc]
  mask.select(1, 0).fill_(false);
  return mask;
}

at::Tensor run(const AttentionInputs& in, const at::Tensor& mask, bool compensate, at::Device device) {
  CentroidCompensation compensation{in.k_centroids.to(device), in.v_means.to(device), in.k_layout.sizes.to(device)};
  at::Tensor out = block_sparse_attention(in.qp.to(device), in.kp.to(device), in.vp.to(device),
                                          in.q_layout.offsets.to(device), in.k_layout.offsets.to(device),
                                          mask.to(device), in.scale, compensate ? &compensation : nullptr);
  EXPECT_EQ(out.device().type(), device.type());
  return out.cpu();
}

// Dense softmax attention in float64 on the original order, returned in the permuted query order.
at::Tensor dense_attention(const AttentionInputs& in) {
  at::Tensor logits = at::bmm(in.q.to(at::kDouble), in.k.to(at::kDouble).transpose(1, 2)) * in.scale;  // [BH, N, N]
  at::Tensor out = at::bmm(at::softmax(logits, -1), in.v.to(at::kDouble));                         // [BH, N, d]
  return test::permute_rows(out, in.q_layout.order);
}

// Spec §3.2 evaluated per query token in float64: exact keys of routed clusters, plus (with
// compensation) n_j·e^{s·q·k̄_j}·v̄_j for skipped non-empty clusters; zeros for nothing to attend.
at::Tensor brute_force(const AttentionInputs& in, const at::Tensor& mask, bool compensate) {
  at::Tensor qp = in.qp.to(at::kDouble), kp = in.kp.to(at::kDouble), vp = in.vp.to(at::kDouble);
  at::Tensor kbar = in.k_centroids.to(at::kDouble), vbar = in.v_means.to(at::kDouble);
  auto q_off = in.q_layout.offsets.accessor<int64_t, 2>();
  auto k_off = in.k_layout.offsets.accessor<int64_t, 2>();
  auto routed = mask.accessor<bool, 3>();
  at::Tensor out = at::zeros_like(qp);
  for (int64_t b = 0; b < qp.size(0); ++b) {
    for (int64_t i = 0; i < mask.size(1); ++i) {
      std::vector<at::Tensor> keys, values, biases;
      for (int64_t j = 0; j < mask.size(2); ++j) {
        const int64_t begin = k_off[b][j], end = k_off[b][j + 1];
        if (routed[b][i][j]) {
          keys.push_back(kp[b].slice(0, begin, end));
          values.push_back(vp[b].slice(0, begin, end));
          biases.push_back(at::zeros({end - begin}, at::kDouble));
        } else if (compensate && end > begin) {
          keys.push_back(kbar[b][j].unsqueeze(0));
          values.push_back(vbar[b][j].unsqueeze(0));
          biases.push_back(at::full({1}, std::log(static_cast<double>(end - begin)), at::kDouble));
        }
      }
      const int64_t rows_begin = q_off[b][i], rows_end = q_off[b][i + 1];
      if (keys.empty() || rows_end == rows_begin) continue;
      at::Tensor rows = qp[b].slice(0, rows_begin, rows_end);  // [m_i, d]
      at::Tensor logits = at::mm(rows, at::cat(keys).t()) * in.scale + at::cat(biases);  // [m_i, keys]
      out[b].slice(0, rows_begin, rows_end).copy_(at::mm(at::softmax(logits, -1), at::cat(values)));
    }
  }
  return out;
}

void check_all_true_mask_is_dense(at::Device device) {
  at::manual_seed(17);
  for (const AttentionCase& c : kCases) {
    SCOPED_TRACE(::testing::Message() << "N " << c.tokens << " Qc " << c.q_clusters << " Kc " << c.k_clusters);
    AttentionInputs in = make_inputs(c, false);
    at::Tensor mask = at::ones({c.bh, c.q_clusters, c.k_clusters}, at::kBool);
    at::Tensor dense = dense_attention(in);
    // float32 both ways, but through different BLAS kernels: 2.4e-5 was seen on an AVX-512 host.
    EXPECT_TRUE(test::tensors_close(run(in, mask, false, device), dense, 1e-4));
    EXPECT_TRUE(test::tensors_close(run(in, mask, true, device), dense, 1e-4));
  }
}

void check_constant_clusters_with_compensation_are_dense(at::Device device) {
  at::manual_seed(23);
  for (const AttentionCase& c : kCases) {
    SCOPED_TRACE(::testing::Message() << "N " << c.tokens << " Qc " << c.q_clusters << " Kc " << c.k_clusters);
    AttentionInputs in = make_inputs(c, true);
    at::Tensor dense = dense_attention(in);
    for (const double density : {0.0, 0.3, 0.8}) {
      EXPECT_TRUE(test::tensors_close(run(in, random_mask(c, density), true, device), dense, 1e-5))
          << "density " << density;
    }
  }
}

void check_formula_with_and_without_compensation(at::Device device) {
  at::manual_seed(29);
  for (const AttentionCase& c : kCases) {
    SCOPED_TRACE(::testing::Message() << "N " << c.tokens << " Qc " << c.q_clusters << " Kc " << c.k_clusters);
    AttentionInputs in = make_inputs(c, false);
    at::Tensor mask = random_mask(c, 0.4);
    at::Tensor with = run(in, mask, true, device);
    at::Tensor without = run(in, mask, false, device);
    EXPECT_TRUE(test::tensors_close(with, brute_force(in, mask, true), 1e-5));
    EXPECT_TRUE(test::tensors_close(without, brute_force(in, mask, false), 1e-5));
    EXPECT_GT(test::relative_l2(with, without), 1e-3) << "compensation should change the output";
    // Query cluster 0 routes nothing: without compensation its rows are exactly zero.
    for (int64_t b = 0; b < c.bh; ++b) {
      const int64_t rows = in.q_layout.sizes[b][0].item<int64_t>();
      EXPECT_TRUE(at::equal(without[b].slice(0, 0, rows), at::zeros({rows, c.head_dim})));
    }
  }
}

TEST(BlockSparseAttention, AllTrueMaskIsDense) { check_all_true_mask_is_dense(at::kCPU); }
TEST(BlockSparseAttention, ConstantClustersWithCompensationAreDense) {
  check_constant_clusters_with_compensation_are_dense(at::kCPU);
}
TEST(BlockSparseAttention, MatchesFloat64FormulaWithAndWithoutCompensation) {
  check_formula_with_and_without_compensation(at::kCPU);
}

TEST(BlockSparseAttention, AllTrueMaskIsDenseOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_all_true_mask_is_dense(at::kCUDA);
}
TEST(BlockSparseAttention, ConstantClustersWithCompensationAreDenseOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_constant_clusters_with_compensation_are_dense(at::kCUDA);
}
TEST(BlockSparseAttention, MatchesFloat64FormulaWithAndWithoutCompensationOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_formula_with_and_without_compensation(at::kCUDA);
}

// The fused CUDA kernel (bf16 / fp16, d 64 and 128) against the fp32 reference on the same rounded
// inputs. The output starts as NaN so any element the kernel fails to write fails the comparison.
// Tolerances: the kernel rounds P and k̄ / v̄ to the input dtype and the output once (2^-9 relative
// per element for bf16, 2^-12 for fp16); measured errors sit well below these bounds.
struct KernelCase {
  AttentionCase shape;
  double density;
};

const std::vector<KernelCase> kKernelCases = {
    // bh, tokens, head_dim (replaced per run), Qc, Kc; density of routed blocks
    {{2, 1000, 0, 37, 300}, 0.3},  // key clusters of ~3 tokens, query tiles not multiples of 64
    {{3, 130, 0, 5, 200}, 0.5},    // more key clusters than keys: many empty
    {{1, 4099, 0, 20, 64}, 0.2},   // query clusters of several tiles, key clusters of ~64
    {{2, 777, 0, 3, 9}, 1.0},      // every block routed
    {{2, 300, 0, 7, 40}, 0.0},     // nothing routed: compensation only, or zeros
    {{1, 3000, 0, 3, 6}, 1.0},     // long key streams (~47 tiles): the pipelined loop's steady state
    {{5, 1000, 0, 70, 64}, 0.3},   // query tile offsets: 3 scans of 32 clusters per head, 2 CTAs of heads
    // Query clusters of at most 64 rows, which the wgmma kernel gives to its one-consumer launch,
    // over 2 and 3 key tiles of 64 (1 and 2 of 128 at d = 64).
    {{2, 100, 0, 4, 3}, 1.0},
    {{1, 150, 0, 5, 5}, 1.0},
    // Thousands of key clusters (most of them empty): at d = 128 the wgmma kernel's cluster lists
    // leave no room for 128-key tiles, so it runs 64-key ones, and every warp scans 16 rounds of
    // the routing row.
    {{1, 2000, 0, 4, 6000}, 0.3},
    // The most key clusters the kernels take (on Hopper; an A100's mma.sync kernel runs short of
    // shared memory from about Kc = 6600 at d = 128 and leaves them to the reference).
    {{1, 3000, 0, 4, 8192}, 0.3},
};


// One case on the GPU against the fp32 reference on the same rounded inputs; the output starts as
// NaN so any element the kernel fails to write fails the comparison.
// `behind_slow_work`: the inputs come out of ~1 TFLOP of matrix products queued on the current
// stream, so an op that runs part of its work on another stream must order it after them (and
// the output's copy back after that work).
void expect_kernel_matches(const AttentionCase& c, const AttentionInputs& in, const at::Tensor& mask,
                           at::ScalarType dtype, double tolerance, bool compensate, bool original_order,
                           bool behind_slow_work = false) {
  SCOPED_TRACE(::testing::Message() << "compensate " << compensate << " original order " << original_order);
  const at::Device cuda(at::kCUDA);
  at::Tensor qp = in.qp.to(dtype), kp = in.kp.to(dtype), vp = in.vp.to(dtype);
  at::Tensor kbar = in.k_centroids.to(dtype), vbar = in.v_means.to(dtype);
  CentroidCompensation cpu_comp{kbar.to(at::kFloat), vbar.to(at::kFloat), in.k_layout.sizes};
  at::Tensor expected = block_sparse_attention(qp.to(at::kFloat), kp.to(at::kFloat), vp.to(at::kFloat),
                                               in.q_layout.offsets, in.k_layout.offsets, mask, in.scale,
                                               compensate ? &cpu_comp : nullptr);
  if (original_order) expected = test::permute_rows(expected, at::argsort(in.q_layout.order, int64_t{1}));
  CentroidCompensation comp{kbar.to(cuda), vbar.to(cuda), in.k_layout.sizes.to(cuda)};
  at::Tensor out = at::full(qp.sizes(), std::nan(""), qp.options().device(cuda));
  at::Tensor q_dev = qp.to(cuda), k_dev = kp.to(cuda), v_dev = vp.to(cuda);
  if (behind_slow_work) {
    const at::Tensor zero = test::zero_after_slow_work(cuda, dtype);
    q_dev = q_dev + zero;
    k_dev = k_dev + zero;
    v_dev = v_dev + zero;
  }
  block_sparse_attention_out(out, q_dev, k_dev, v_dev, in.q_layout.offsets.to(cuda),
                             in.k_layout.offsets.to(cuda), mask.to(cuda), in.scale, compensate ? &comp : nullptr,
                             original_order ? in.q_layout.order.to(cuda) : at::Tensor());
  at::Tensor got = out.cpu().to(at::kFloat);
  EXPECT_FALSE(got.isnan().any().item<bool>()) << "unwritten output elements";
  EXPECT_TRUE(test::tensors_close(got, expected, tolerance));
  if (!compensate && !original_order) {
    // Query cluster 0 routes nothing (random_mask): its rows are exactly zero.
    for (int64_t b = 0; b < c.bh; ++b) {
      const int64_t rows = in.q_layout.sizes[b][0].item<int64_t>();
      EXPECT_TRUE(at::equal(got[b].slice(0, 0, rows), at::zeros({rows, c.head_dim})));
    }
  }
}

// `every_variant`: with and without compensation, permuted and original output order; otherwise
// only compensation into the original order, the variant that runs every code path (virtual keys,
// the scattered write) — a quarter of the work, for compute-sanitizer's racecheck.
void check_kernel_matches_reference(at::ScalarType dtype, double tolerance, KernelPath path, bool every_variant = true) {
  ScopedKernelPath choice(path);
  at::manual_seed(41);
  for (const int64_t head_dim : {64, 128}) {
    for (const KernelCase& kc : kKernelCases) {
      AttentionCase c = kc.shape;
      c.head_dim = head_dim;
      SCOPED_TRACE(::testing::Message() << block_sparse_kernel_name(at::kCUDA, dtype, head_dim, c.k_clusters)
                                        << " dtype " << dtype << " d " << head_dim << " N " << c.tokens << " Qc "
                                        << c.q_clusters << " Kc " << c.k_clusters << " density " << kc.density);
      AttentionInputs in = make_inputs(c, false);
      at::Tensor mask = random_mask(c, kc.density);
      for (const bool compensate : {false, true}) {
        for (const bool original_order : {false, true}) {
          if (!every_variant && !(compensate && original_order)) continue;
          expect_kernel_matches(c, in, mask, dtype, tolerance, compensate, original_order);
        }
      }
    }
  }
}

// An empty key cluster has no keys for its centroid to stand for, so its k̄ and v̄ are never read:
// not-a-number there changes nothing, on every path (the reference's masked softmax once multiplied
// a NaN v̄ by its weight of 0).
TEST(BlockSparseAttention, EmptyClustersCentroidsAreNeverRead) {
  at::manual_seed(31);
  const AttentionCase c{3, 101, 64, 7, 13};
  const AttentionInputs in = make_inputs(c, false);
  const at::Tensor mask = random_mask(c, 0.4);
  const at::Tensor empty = (in.k_layout.sizes == 0).unsqueeze(-1);  // [BH, Kc, 1]
  ASSERT_TRUE(empty.any().item<bool>());
  std::vector<std::pair<at::Device, at::ScalarType>> runs = {{at::kCPU, at::kFloat}};
  if (at::hasCUDA()) {
    runs.emplace_back(at::kCUDA, at::kFloat);      // the reference
    runs.emplace_back(at::kCUDA, at::kBFloat16);  // a kernel, or the reference on KernelPath::Reference
  }
  for (const auto& [device, dtype] : runs) {
    for (const KernelPath path : {KernelPath::Fastest, KernelPath::Portable, KernelPath::Reference}) {
      const ScopedKernelPath choice(path);
      SCOPED_TRACE(::testing::Message() << block_sparse_kernel_name(device, dtype, c.head_dim, c.k_clusters) << " "
                                        << dtype);
      AttentionInputs rounded = in;
      for (at::Tensor* t : {&rounded.qp, &rounded.kp, &rounded.vp, &rounded.k_centroids, &rounded.v_means}) {
        *t = t->to(dtype);
      }
      const at::Tensor expected = brute_force(rounded, mask, true);
      AttentionInputs poisoned = rounded;
      poisoned.k_centroids = rounded.k_centroids.masked_fill(empty, std::nan(""));
      poisoned.v_means = rounded.v_means.masked_fill(empty, std::nan(""));
      const at::Tensor got = run(poisoned, mask, true, device).to(at::kFloat);
      EXPECT_TRUE(test::tensors_close(got, expected, dtype == at::kFloat ? 1e-5 : 1e-2));
    }
  }
  // The CPU runs block_sparse_attention_cpu: the reference itself, there.
  AttentionInputs poisoned = in;
  poisoned.k_centroids = in.k_centroids.masked_fill(empty, std::nan(""));
  poisoned.v_means = in.v_means.masked_fill(empty, std::nan(""));
  const CentroidCompensation compensation{poisoned.k_centroids, poisoned.v_means, in.k_layout.sizes};
  EXPECT_TRUE(test::tensors_close(block_sparse_attention_reference(in.qp, in.kp, in.vp, in.q_layout.offsets,
                                                                   in.k_layout.offsets, mask, in.scale, &compensation),
                                  brute_force(in, mask, true), 1e-5));
}

// The CPU implementation (gathered keys, one GEMM per query cluster) against the reference (dense
// logits, masked) on the kernels' awkward cases, fp32: only the summation order differs.
TEST(BlockSparseAttention, CpuImplementationMatchesReference) {
  at::manual_seed(43);
  for (const int64_t head_dim : {16, 64}) {
    for (const KernelCase& kc : kKernelCases) {
      AttentionCase c = kc.shape;
      c.head_dim = head_dim;
      SCOPED_TRACE(::testing::Message() << "d " << head_dim << " N " << c.tokens << " Qc " << c.q_clusters << " Kc "
                                        << c.k_clusters << " density " << kc.density);
      AttentionInputs in = make_inputs(c, false);
      at::Tensor mask = random_mask(c, kc.density);
      CentroidCompensation comp{in.k_centroids, in.v_means, in.k_layout.sizes};
      for (const bool compensate : {false, true}) {
        const CentroidCompensation* with = compensate ? &comp : nullptr;
        at::Tensor got = block_sparse_attention_cpu(in.qp, in.kp, in.vp, in.q_layout.offsets, in.k_layout.offsets,
                                                    mask, in.scale, with);
        at::Tensor want = block_sparse_attention_reference(in.qp, in.kp, in.vp, in.q_layout.offsets,
                                                           in.k_layout.offsets, mask, in.scale, with);
        EXPECT_TRUE(test::tensors_close(got, want, 1e-5)) << "compensate " << compensate;
        if (compensate || kc.density > 0.0) {
          EXPECT_GT(got.abs().sum().item<double>(), 0.0);  // not only the nothing-to-attend zeros
        }
      }
    }
  }
}

// A query cluster that holds most tokens (identical tokens land in one) against as many routed
// keys: computed in chunks of rows, not as one [N, N] logit matrix, with the reference's result.
TEST(BlockSparseAttention, CpuImplementationChunksAClusterOfMostTokens) {
  at::manual_seed(44);
  const int64_t tokens = 3000, d = 8;  // 3000 × 3000 logits: past one chunk's 2^22
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor qp = at::randn({1, tokens, d}, f32), kp = at::randn({1, tokens, d}, f32);
  const at::Tensor vp = at::randn({1, tokens, d}, f32);
  // Query clusters of 2999 rows and 1; key clusters of 2990 keys, 10, and an empty one.
  const at::Tensor q_offsets = at::tensor({int64_t(0), tokens - 1, tokens}).view({1, 3});
  const at::Tensor k_offsets = at::tensor({int64_t(0), tokens - 10, tokens, tokens}).view({1, 4});
  const at::Tensor mask = at::tensor({1, 0, 0, 1, 1, 1}).to(at::kBool).view({1, 2, 3});
  const at::Tensor k_sizes = at::tensor({tokens - 10, int64_t(10), int64_t(0)}).view({1, 3});
  const CentroidCompensation comp{at::randn({1, 3, d}, f32), at::randn({1, 3, d}, f32), k_sizes};
  for (const CentroidCompensation* with : {static_cast<const CentroidCompensation*>(nullptr), &comp}) {
    const at::Tensor got = block_sparse_attention_cpu(qp, kp, vp, q_offsets, k_offsets, mask, 0.35, with);
    const at::Tensor want = block_sparse_attention_reference(qp, kp, vp, q_offsets, k_offsets, mask, 0.35, with);
    // Two float32 computations (the reference masks all 3000 × 3000 logits; this gathers the routed
    // keys) summing ~3000 terms in different orders: 2.4e-5 and 2.5e-5 seen besides the usual ~1e-7,
    // the BLAS's blocking (the gathered keys' alignment, its threads) choosing. A lost or doubled
    // chunk would be off by O(1).
    EXPECT_TRUE(test::tensors_close(got, want, 1e-4)) << "compensate " << (with != nullptr);
  }
}

// The fastest kernel of the device (wgmma on an H100/H200) and the mma.sync one, which then also
// runs on Hopper.
TEST(BlockSparseAttention, KernelMatchesReferenceBf16OnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_kernel_matches_reference(at::kBFloat16, 1e-2, KernelPath::Fastest);
}

TEST(BlockSparseAttention, KernelMatchesReferenceFp16OnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_kernel_matches_reference(at::kHalf, 2e-3, KernelPath::Fastest);
}

TEST(BlockSparseAttention, MmaSyncKernelMatchesReferenceBf16OnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_kernel_matches_reference(at::kBFloat16, 1e-2, KernelPath::Portable);
}

TEST(BlockSparseAttention, MmaSyncKernelMatchesReferenceFp16OnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_kernel_matches_reference(at::kHalf, 2e-3, KernelPath::Portable);
}

// Both kernels on every case in the variant that runs all their code: what the GPU job runs under
// compute-sanitizer racecheck, which takes minutes per full test above.
TEST(BlockSparseAttention, BothKernelsOnEveryCaseOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  check_kernel_matches_reference(at::kBFloat16, 1e-2, KernelPath::Fastest, false);
  check_kernel_matches_reference(at::kBFloat16, 1e-2, KernelPath::Portable, false);
}

// Query clusters of every size around the tile boundaries (0 to 300 rows): the wgmma kernel gives
// 128-row tiles and tails of 65-127 rows to two-consumer CTAs and tails of 1-64 rows to its
// one-consumer launch (on a side stream), so every row must be written exactly once by the right
// launch, and the last case runs behind slow work on the current stream so that the side stream's
// fork and join matter. Each head rotates the sizes, so each has its own tile layout; both kernels,
// d 64 and 128.
TEST(BlockSparseAttention, TilesAndTailsOfEverySizeOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const std::vector<int64_t> sizes = {0, 1, 2, 63, 64, 65, 100, 127, 128, 129, 191, 192, 193, 255, 256, 257, 300};
  int64_t tokens = 0;
  for (const int64_t size : sizes) tokens += size;
  at::manual_seed(47);
  for (const KernelPath path : {KernelPath::Fastest, KernelPath::Portable}) {
    ScopedKernelPath choice(path);
    for (const int64_t head_dim : {64, 128}) {
      const AttentionCase c{3, tokens, head_dim, static_cast<int64_t>(sizes.size()), 24};
      SCOPED_TRACE(::testing::Message() << block_sparse_kernel_name(at::kCUDA, at::kBFloat16, head_dim, c.k_clusters)
                                        << " d " << head_dim);
      const SyntheticLayout q_layout = test::layout_of_sizes(c.bh, sizes);
      AttentionInputs in = make_inputs(c, false, &q_layout);
      at::Tensor mask = random_mask(c, 0.4);
      for (const bool compensate : {false, true}) {
        expect_kernel_matches(c, in, mask, at::kBFloat16, 1e-2, compensate, false);
      }
      expect_kernel_matches(c, in, mask, at::kBFloat16, 1e-2, true, true, true);
    }
  }
}

// A single query cluster of at most 64 rows: the wgmma kernel has no 128-row tile at all (its
// two-consumer launch is skipped, a grid of width 0 being an error) and its one-consumer launch
// writes every row. The mask routes nothing (random_mask's first cluster), so the rows are zeros
// or compensation alone. Both kernels, d 64 and 128.
TEST(BlockSparseAttention, OneClusterOfOneTailOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(59);
  for (const KernelPath path : {KernelPath::Fastest, KernelPath::Portable}) {
    ScopedKernelPath choice(path);
    for (const int64_t head_dim : {64, 128}) {
      const AttentionCase c{2, 40, head_dim, 1, 5};
      SCOPED_TRACE(::testing::Message() << block_sparse_kernel_name(at::kCUDA, at::kBFloat16, head_dim, c.k_clusters)
                                        << " d " << head_dim);
      const SyntheticLayout q_layout = test::layout_of_sizes(c.bh, {c.tokens});
      AttentionInputs in = make_inputs(c, false, &q_layout);
      const at::Tensor mask = random_mask(c, 0.5);
      for (const bool compensate : {false, true}) {
        expect_kernel_matches(c, in, mask, at::kBFloat16, 1e-2, compensate, true);
      }
    }
  }
}

#if SVGEAR_HAVE_CUDA
// The list of query tiles (query_tiles.cuh) alone, for both kernels' tilings (128-row tiles with
// tails of at most 64 rows; 64-row tiles, no tails), on a workspace poisoned before: each head's
// tiles and tails, cluster by cluster in order, each cluster's tiles in row order, with their rows.
// 70 clusters of 0 to 300 rows take the warp three rounds.
TEST(BlockSparseAttention, QueryTilesListEveryTileOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(53);
  std::vector<int64_t> sizes = {0, 1, 2, 63, 64, 65, 100, 127, 128, 129, 191, 192, 193, 255, 256, 257, 300};
  for (int64_t i = static_cast<int64_t>(sizes.size()); i < 70; ++i) sizes.push_back((i * 37) % 301);
  int64_t tokens = 0;
  for (const int64_t size : sizes) tokens += size;
  const int64_t bh = 5, q_clusters = static_cast<int64_t>(sizes.size());
  const SyntheticLayout q_layout = test::layout_of_sizes(bh, sizes);
  const at::Tensor q_off = q_layout.offsets.to(at::kCUDA);
  auto offsets = q_layout.offsets.accessor<int64_t, 2>();
  const int64_t bytes = block_sparse::QueryTiles::bytes(bh, tokens, q_clusters);
  for (const auto& [tile_rows, tail_rows] : {std::pair{128, 64}, std::pair{64, 0}}) {
    SCOPED_TRACE(::testing::Message() << "tiles of " << tile_rows << ", tails of at most " << tail_rows);
    at::Tensor workspace = at::full({bytes}, 0xAB, at::TensorOptions().dtype(at::kByte).device(at::kCUDA));
    BlockSparseAttentionArgs args;
    args.q_offsets = q_off.data_ptr<int64_t>();
    args.workspace = workspace.data_ptr();
    args.bh = bh;
    args.q_rows = tokens;
    args.q_clusters = q_clusters;
    launch_query_tiles(args, tile_rows, tail_rows, at::cuda::getCurrentCUDAStream().stream());
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    at::Tensor host = workspace.cpu();
    const block_sparse::QueryTiles got(host.data_ptr(), bh, tokens, q_clusters);
    for (int64_t h = 0; h < bh; ++h) {
      std::vector<std::array<int64_t, 3>> tiles, tails;  // cluster, first row, rows
      for (int64_t i = 0; i < q_clusters; ++i) {
        const int64_t begin = offsets[h][i], rows = offsets[h][i + 1] - begin;
        const int64_t rest = rows % tile_rows;
        const bool tail = tail_rows > 0 && rest > 0 && rest <= tail_rows;
        for (int64_t r = 0; r < rows - (tail ? rest : 0); r += tile_rows) {
          tiles.push_back({i, begin + r, std::min<int64_t>(tile_rows, rows - r)});
        }
        if (tail) tails.push_back({i, begin + rows - rest, rest});
      }
      ASSERT_EQ(got.tile_count[h], static_cast<int64_t>(tiles.size())) << "head " << h;
      ASSERT_EQ(got.tail_count[h], static_cast<int64_t>(tails.size())) << "head " << h;
      EXPECT_LE(static_cast<int64_t>(tiles.size()), block_sparse::QueryTiles::max_tiles(tokens, q_clusters, tile_rows));
      for (size_t t = 0; t < tiles.size(); ++t) {
        const block_sparse::TileRecord& r = got.tiles[h * got.tiles_per_head + t];
        EXPECT_EQ((std::array<int64_t, 3>{r.cluster, r.begin, r.rows}), tiles[t]) << "head " << h << " tile " << t;
      }
      for (size_t t = 0; t < tails.size(); ++t) {
        const block_sparse::TileRecord& r = got.tails[h * q_clusters + t];
        EXPECT_EQ((std::array<int64_t, 3>{r.cluster, r.begin, r.rows}), tails[t]) << "head " << h << " tail " << t;
      }
    }
  }
}
#endif

// The engine hands the kernels float32 k̄ and v̄ (k-means's centroids, the value means) beside bf16
// q, k and v: the op rounds them to the inputs' dtype, so the result is that of the rounded
// centroids, bit for bit, whatever their strides.
TEST(BlockSparseAttention, Float32CentroidsOnTheKernelPathOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(47);
  const AttentionCase c{2, 1000, 128, 37, 300};
  const AttentionInputs in = make_inputs(c, false);
  const at::Tensor mask = random_mask(c, 0.3);
  const at::TensorOptions bf16 = at::TensorOptions().device(at::kCUDA).dtype(at::kBFloat16);
  auto call = [&](const at::Tensor& kbar, const at::Tensor& vbar) {
    const CentroidCompensation comp{kbar.to(at::kCUDA), vbar.to(at::kCUDA), in.k_layout.sizes.to(at::kCUDA)};
    return block_sparse_attention(in.qp.to(bf16), in.kp.to(bf16), in.vp.to(bf16), in.q_layout.offsets.to(at::kCUDA),
                                  in.k_layout.offsets.to(at::kCUDA), mask.to(at::kCUDA), in.scale, &comp)
        .cpu();
  };
  auto transposed_storage = [](const at::Tensor& t) { return t.transpose(1, 2).contiguous().transpose(1, 2); };
  for (const KernelPath path : {KernelPath::Fastest, KernelPath::Portable}) {
    const ScopedKernelPath choice(path);
    SCOPED_TRACE(block_sparse_kernel_name(at::kCUDA, at::kBFloat16, c.head_dim, c.k_clusters));
    if (!cuda_kernels_serve(at::kCUDA)) GTEST_SKIP() << "a GPU older than sm_80: no kernel to test";
    const at::Tensor from_bf16 = call(in.k_centroids.to(at::kBFloat16), in.v_means.to(at::kBFloat16));
    EXPECT_TRUE(at::equal(call(in.k_centroids, in.v_means), from_bf16));
    EXPECT_TRUE(at::equal(call(transposed_storage(in.k_centroids), transposed_storage(in.v_means)), from_bf16));
  }
}

// The op names the kernel it runs; on an sm_90 GPU the fastest is the wgmma one (a build without
// sm_90a code would silently fall back to mma.sync).
TEST(BlockSparseAttention, NamesTheKernelItRuns) {
  EXPECT_STREQ(block_sparse_kernel_name(at::kCPU, at::kBFloat16, 128, 1000), "CPU gather");
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  EXPECT_STREQ(block_sparse_kernel_name(at::kCUDA, at::kFloat, 128, 1000), "ATen reference");
  EXPECT_STREQ(block_sparse_kernel_name(at::kCUDA, at::kBFloat16, 96, 1000), "ATen reference");
  EXPECT_STREQ(block_sparse_kernel_name(at::kCUDA, at::kBFloat16, 128, 8193), "ATen reference");
  {
    ScopedKernelPath choice(KernelPath::Reference);
    EXPECT_STREQ(block_sparse_kernel_name(at::kCUDA, at::kBFloat16, 128, 1000), "ATen reference");
  }
  {
    ScopedKernelPath choice(KernelPath::Portable);
    EXPECT_STREQ(block_sparse_kernel_name(at::kCUDA, at::kBFloat16, 128, 1000), "mma.sync (sm_80)");
  }
#if SVGEAR_HAVE_CUDA
  const bool hopper = at::cuda::getCurrentDeviceProperties()->major == 9;
#else
  const bool hopper = false;
#endif
  EXPECT_STREQ(block_sparse_kernel_name(at::kCUDA, at::kHalf, 64, 1000), hopper ? "wgmma (sm_90a)" : "mma.sync (sm_80)");
  if (hopper) {
    EXPECT_STREQ(block_sparse_kernel_name(at::kCUDA, at::kBFloat16, 128, 8192), "wgmma (sm_90a)");
  }
}

// The reference path of block_sparse_attention_out: fused scatter to the original order and the
// preallocated output, on CPU.
TEST(BlockSparseAttention, OutVariantWritesTheOriginalOrder) {
  at::manual_seed(43);
  const AttentionCase c = kCases[1];
  AttentionInputs in = make_inputs(c, false);
  at::Tensor mask = random_mask(c, 0.5);
  CentroidCompensation comp{in.k_centroids, in.v_means, in.k_layout.sizes};
  at::Tensor permuted = block_sparse_attention(in.qp, in.kp, in.vp, in.q_layout.offsets, in.k_layout.offsets,
                                               mask, in.scale, &comp);
  at::Tensor out = at::full(in.qp.sizes(), std::nan(""));
  block_sparse_attention_out(out, in.qp, in.kp, in.vp, in.q_layout.offsets, in.k_layout.offsets, mask, in.scale,
                             &comp, in.q_layout.order);
  EXPECT_TRUE(at::equal(test::permute_rows(out, in.q_layout.order), permuted));
  at::Tensor wrong = at::empty({c.bh, c.tokens, c.head_dim + 1});
  EXPECT_THROW(block_sparse_attention_out(wrong, in.qp, in.kp, in.vp, in.q_layout.offsets, in.k_layout.offsets,
                                          mask, in.scale, &comp),
               c10::Error);
  EXPECT_THROW(block_sparse_attention(in.qp, in.kp, in.vp, in.q_layout.offsets, in.k_layout.offsets, mask,
                                      in.scale, &comp, in.q_layout.order.slice(1, 1)),
               c10::Error);
}

// `out` with strided rows: a [BH, N, d] view of tokens-first [N, BH, d] storage (how the sparse
// backends store a batch entry's output for the DiT) receives what a contiguous one does, bit for
// bit, through the CPU implementation here and the kernels on CUDA (rows written in place); rows
// an odd number of elements apart (the kernels store element pairs) go through a contiguous copy.
TEST(BlockSparseAttention, OutWithStridedRowsMatchesContiguous) {
  at::manual_seed(44);
  const AttentionCase c{3, 101, 64, 7, 13};  // d = 64: a kernel's head dim
  AttentionInputs in = make_inputs(c, false);
  at::Tensor mask = random_mask(c, 0.5);
  std::vector<std::pair<at::Device, at::ScalarType>> runs = {{at::kCPU, at::kFloat}};
  if (at::hasCUDA()) runs.push_back({at::Device(at::kCUDA, 0), at::kBFloat16});
  for (const auto& [device, dtype] : runs) {
    for (const int64_t pad : {0, 1}) {
      SCOPED_TRACE(::testing::Message() << device << " " << dtype << " row padding " << pad);
      at::Tensor qp = in.qp.to(device, dtype), kp = in.kp.to(device, dtype), vp = in.vp.to(device, dtype);
      CentroidCompensation comp{in.k_centroids.to(device, dtype), in.v_means.to(device, dtype),
                                in.k_layout.sizes.to(device)};
      at::Tensor q_off = in.q_layout.offsets.to(device), k_off = in.k_layout.offsets.to(device);
      at::Tensor order = in.q_layout.order.to(device), m = mask.to(device);
      at::Tensor plain = block_sparse_attention(qp, kp, vp, q_off, k_off, m, in.scale, &comp, order);
      at::Tensor storage = at::full({c.tokens, c.bh, c.head_dim + pad}, std::nan(""), qp.options());
      at::Tensor strided = storage.narrow(2, 0, c.head_dim).permute({1, 0, 2});  // [BH, N, d]
      block_sparse_attention_out(strided, qp, kp, vp, q_off, k_off, m, in.scale, &comp, order);
      EXPECT_TRUE(at::equal(strided, plain));
    }
  }
  at::Tensor columns = at::empty({c.bh, c.head_dim, c.tokens}).transpose(1, 2);  // rows not contiguous
  EXPECT_THROW(block_sparse_attention_out(columns, in.qp, in.kp, in.vp, in.q_layout.offsets, in.k_layout.offsets,
                                          mask, in.scale, nullptr),
               c10::Error);
  at::Tensor shared = at::empty({c.tokens, c.head_dim}).expand({c.bh, c.tokens, c.head_dim});  // heads overlap
  EXPECT_THROW(block_sparse_attention_out(shared, in.qp, in.kp, in.vp, in.q_layout.offsets, in.k_layout.offsets,
                                          mask, in.scale, nullptr),
               c10::Error);
}

TEST(BlockSparseAttention, ReturnsTheQueryDtype) {
  at::manual_seed(31);
  const AttentionCase c = kCases[1];
  AttentionInputs in = make_inputs(c, false);
  at::Tensor mask = random_mask(c, 0.5);
  AttentionInputs rounded = in;
  rounded.qp = in.qp.to(at::kBFloat16);
  at::Tensor out = run(rounded, mask, true, at::kCPU);
  EXPECT_EQ(out.scalar_type(), at::kBFloat16);
  rounded.qp = rounded.qp.to(at::kFloat);
  // Only the final rounding to bf16 differs (relative 2^-9 per element).
  EXPECT_TRUE(test::tensors_close(out, run(rounded, mask, true, at::kCPU), 4e-3));
}

TEST(BlockSparseAttention, RejectsBadInputs) {
  at::manual_seed(37);
  const AttentionCase c = kCases[2];
  AttentionInputs in = make_inputs(c, false);
  at::Tensor mask = random_mask(c, 0.5);
  auto attend = [&](const at::Tensor& kp, const at::Tensor& k_offsets, const at::Tensor& block_mask,
                    const CentroidCompensation* compensation) {
    return block_sparse_attention(in.qp, kp, in.vp, in.q_layout.offsets, k_offsets, block_mask, in.scale,
                                  compensation);
  };
  EXPECT_NO_THROW(attend(in.kp, in.k_layout.offsets, mask, nullptr));
  EXPECT_THROW(attend(in.kp.slice(2, 1), in.k_layout.offsets, mask, nullptr), c10::Error);
  EXPECT_THROW(attend(in.kp, in.k_layout.offsets.slice(1, 1), mask, nullptr), c10::Error);
  EXPECT_THROW(attend(in.kp, in.k_layout.offsets, mask.to(at::kFloat), nullptr), c10::Error);
  CentroidCompensation bad{in.k_centroids.slice(1, 1), in.v_means, in.k_layout.sizes};
  EXPECT_THROW(attend(in.kp, in.k_layout.offsets, mask, &bad), c10::Error);
  // The kernels' running maximum needs a positive scale.
  for (const double scale : {-in.scale, 0.0, std::nan("")}) {
    EXPECT_THROW(block_sparse_attention(in.qp, in.kp, in.vp, in.q_layout.offsets, in.k_layout.offsets, mask, scale,
                                        nullptr),
                 c10::Error);
  }
  // Query rows but no query cluster to hold them.
  EXPECT_THROW(block_sparse_attention(in.qp, in.kp, in.vp, at::zeros({c.bh, 1}, at::kLong), in.k_layout.offsets,
                                      mask.slice(1, 0, 0), in.scale, nullptr),
               c10::Error);
  // CPU offsets are read in place, so ones that leave the rows or go back are refused.
  for (const int64_t shift : {int64_t(1), int64_t(-1)}) {
    at::Tensor past_the_end = in.k_layout.offsets.clone();
    past_the_end.select(1, past_the_end.size(1) - 1).add_(shift);
    EXPECT_THROW(attend(in.kp, past_the_end, mask, nullptr), c10::Error);
  }
  at::Tensor backwards = in.k_layout.offsets.clone();
  ASSERT_GE(backwards.size(1), 3);
  backwards[0][1] = backwards[0][2].item<int64_t>() + 1;
  EXPECT_THROW(attend(in.kp, backwards, mask, nullptr), c10::Error);
  at::Tensor late_start = in.q_layout.offsets.clone();
  late_start[c.bh - 1][0] = 1;
  EXPECT_THROW(block_sparse_attention(in.qp, in.kp, in.vp, late_start, in.k_layout.offsets, mask, in.scale, nullptr),
               c10::Error);
  // No head dimension.
  EXPECT_THROW(block_sparse_attention(in.qp.slice(2, 0, 0), in.kp.slice(2, 0, 0), in.vp.slice(2, 0, 0),
                                      in.q_layout.offsets, in.k_layout.offsets, mask, in.scale, nullptr),
               c10::Error);
  // An output over an input's memory: the kernels would overwrite rows other CTAs still read.
  at::Tensor values = in.vp.clone();
  ASSERT_EQ(values.sizes(), in.qp.sizes());  // Nq = Nk in this case
  EXPECT_THROW(block_sparse_attention_out(values, in.qp, in.kp, values, in.q_layout.offsets, in.k_layout.offsets,
                                          mask, in.scale, nullptr),
               c10::Error);
  at::Tensor queries = in.qp.clone();
  EXPECT_THROW(block_sparse_attention_out(queries, queries, in.kp, in.vp, in.q_layout.offsets, in.k_layout.offsets,
                                          mask, in.scale, nullptr),
               c10::Error);
}

}  // namespace
}  // namespace svgear
