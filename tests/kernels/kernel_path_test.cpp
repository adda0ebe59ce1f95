// Which implementation serves CUDA tensors (kernels/common/kernel_path.h): the kernels on GPUs of
// sm_80 or later, the ATen references under KernelPath::Reference and on older GPUs. Each op under
// Reference must give its reference's result on the same CUDA inputs: the same bits, or within 1e-6
// where the reference sums with atomics (scatter_add_ / index_add_ on CUDA: the cluster means, the
// k-means centroids, the probe's block sums). Where a kernel sums in another order (the norms, the
// short-context and block-sparse attention) that tells which path ran, and for the two attention ops
// the test checks that the kernel's bits differ; the gathers, routing and video_to_rgb8 give the
// reference's bits on either path, so there the test shows only that the reference serves CUDA
// tensors.

#include "kernels/common/kernel_path.h"

#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "svgear/build_config.h"
#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#include "kernels/block_routing/block_routing.h"
#include "kernels/block_sparse_attention/block_sparse_attention.h"
#include "kernels/cluster_permutation/cluster_permutation.h"
#include "kernels/error_probe/error_probe.h"
#include "kernels/kmeans/kmeans.h"
#include "kernels/layer_norm_affine/layer_norm_affine.h"
#include "kernels/rms_norm_rope/rms_norm_rope.h"
#include "kernels/short_context_attention/short_context_attention.h"
#include "kernels/video_to_rgb8/video_to_rgb8.h"
#include "tests/kernels/synthetic_layout.h"
#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

TEST(KernelPath, CpuTensorsNeverGoToTheKernels) {
  for (const KernelPath path : {KernelPath::Fastest, KernelPath::Portable, KernelPath::Reference}) {
    ScopedKernelPath choice(path);
    EXPECT_FALSE(cuda_kernels_serve(at::Device(at::kCPU)));
  }
}

TEST(KernelPath, CudaKernelsServeFromSm80UnlessTheReferenceIsChosen) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
#if SVGEAR_HAVE_CUDA
  const bool sm80 = at::cuda::getDeviceProperties(0)->major >= kKernelsMinComputeMajor;
  const at::Device cuda(at::kCUDA, 0);
  EXPECT_EQ(kernel_path(), KernelPath::Fastest);
  EXPECT_EQ(cuda_kernels_serve(cuda), sm80);
  EXPECT_EQ(cuda_kernels_serve(at::Device(at::kCUDA)), sm80);  // the current device
  {
    ScopedKernelPath portable(KernelPath::Portable);
    EXPECT_EQ(cuda_kernels_serve(cuda), sm80);
    ScopedKernelPath reference(KernelPath::Reference);
    EXPECT_FALSE(cuda_kernels_serve(cuda));
  }
  EXPECT_EQ(kernel_path(), KernelPath::Fastest);
  EXPECT_EQ(cuda_kernels_serve(cuda), sm80);
#else
  GTEST_SKIP() << "a build without CUDA";
#endif
}

// Exactly the reference's bits; also on the CUDA device.
::testing::AssertionResult same_bits(const at::Tensor& got, const at::Tensor& reference) {
  if (!got.is_cuda()) return ::testing::AssertionFailure() << "result on " << got.device();
  if (got.sizes() != reference.sizes() || got.scalar_type() != reference.scalar_type()) {
    return ::testing::AssertionFailure() << got.sizes() << " " << got.scalar_type() << " against "
                                         << reference.sizes() << " " << reference.scalar_type();
  }
  if (!at::equal(got, reference)) {
    return ::testing::AssertionFailure() << "differs from the reference: relative L2 "
                                         << test::relative_l2(got.to(at::kDouble), reference.to(at::kDouble));
  }
  return ::testing::AssertionSuccess();
}

// Within `tolerance` of the reference where it is finite, and the same ±inf where it is not (the
// probe's log error of an empty cluster is −inf); also on the CUDA device.
::testing::AssertionResult close_where_finite(const at::Tensor& got, const at::Tensor& reference, double tolerance) {
  if (!got.is_cuda()) return ::testing::AssertionFailure() << "result on " << got.device();
  const at::Tensor finite = reference.isfinite();
  if (!at::equal(got.isfinite(), finite) || !at::equal(got.masked_select(finite.logical_not()),
                                                       reference.masked_select(finite.logical_not()))) {
    return ::testing::AssertionFailure() << "the non-finite elements differ";
  }
  return test::tensors_close(got.masked_select(finite), reference.masked_select(finite), tolerance);
}

TEST(KernelPath, ReferencePathRunsEveryOpsReferenceOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(5);
  const at::Device cuda(at::kCUDA, 0);
  const at::TensorOptions bf16 = at::TensorOptions().device(cuda).dtype(at::kBFloat16);
  const at::TensorOptions f32 = at::TensorOptions().device(cuda).dtype(at::kFloat);
  ScopedKernelPath reference(KernelPath::Reference);

  {
    SCOPED_TRACE("video_to_rgb8");
    at::Tensor video = at::randn({3, 2, 7, 9}, f32);
    EXPECT_TRUE(same_bits(video_to_rgb8(video), video_to_rgb8_reference(video)));
  }
  {
    SCOPED_TRACE("rms_norm_rope");
    const int64_t heads = 2, d = 64, tokens = 37;
    at::Tensor x = at::randn({1, tokens, heads * d}, bf16);
    at::Tensor weight = at::rand({heads * d}, f32) + 0.5;
    at::Tensor rotation = at::polar(at::ones({tokens, d / 2}, f32), at::rand({tokens, d / 2}, f32) * 6.0);
    EXPECT_TRUE(same_bits(rms_norm_rope(x, weight, rotation, heads, 1e-6, at::kBFloat16),
                          rms_norm_rope_reference(x, weight, rotation, heads, 1e-6, at::kBFloat16)));
  }
  {
    SCOPED_TRACE("layer_norm_affine");
    at::Tensor x = at::randn({2, 33, 64}, f32), y = at::randn({2, 33, 64}, f32);
    at::Tensor gain = at::randn({2, 64}, f32), bias = at::randn({2, 64}, f32), gate = at::randn({2, 64}, f32);
    EXPECT_TRUE(same_bits(layer_norm_affine(x, gain, bias, 1e-6, at::kBFloat16),
                          layer_norm_affine_reference(x, gain, bias, 1e-6, at::kBFloat16)));
    EXPECT_FALSE(residual_layer_norm_affine_runs_kernel(x, y, gate, gain, bias, at::kBFloat16));
    const ResidualNormed got = residual_layer_norm_affine(x, y, gate, gain, bias, 1e-6, at::kBFloat16);
    const ResidualNormed want = residual_layer_norm_affine_reference(x, y, gate, gain, bias, 1e-6, at::kBFloat16);
    EXPECT_TRUE(same_bits(got.sum, want.sum));
    EXPECT_TRUE(same_bits(got.normed, want.normed));
  }
  {
    SCOPED_TRACE("short_context_attention");
    at::Tensor q = at::randn({1, 2, 45, 64}, bf16), k = at::randn({1, 2, 5, 64}, bf16), v = at::randn({1, 2, 5, 64}, bf16);
    const std::vector<float> weights = {0.0f, 0.0f, 1.5f, 0.0f, 0.3f};
    EXPECT_STREQ(short_context_kernel_name(cuda, at::kBFloat16, 64, 5), "ATen reference");
    const at::Tensor want = short_context_attention_reference(q, k, v, weights, 0.125);
    EXPECT_TRUE(same_bits(short_context_attention(q, k, v, weights, 0.125), want));
    const ScopedKernelPath fastest(KernelPath::Fastest);
    EXPECT_FALSE(at::equal(short_context_attention(q, k, v, weights, 0.125), want)) << "the kernel's own bits";
  }
  // The sparse path, op by op, on one clustered layout: k-means, the gathers and means, routing,
  // block-sparse attention with compensation.
  const int64_t bh = 2, tokens = 300, d = 128, q_clusters = 5, k_clusters = 24;
  at::Tensor qkv = at::randn({3, bh, tokens, d}, bf16);
  {
    SCOPED_TRACE("kmeans");
    // One iteration: the labels then depend on the initial centroids alone, not on atomic sums.
    at::Tensor init = at::randn({bh, k_clusters, d}, f32);
    const KMeansResult got = kmeans(qkv[1], init, 1, KMeansPoints::InClusterOrder);
    const KMeansResult want = kmeans_reference(qkv[1].to(at::kFloat), init, 1);
    EXPECT_TRUE(same_bits(got.labels, want.labels));
    EXPECT_TRUE(got.centroids.is_cuda());
    EXPECT_TRUE(test::tensors_close(got.centroids, want.centroids, 1e-6));
    EXPECT_TRUE(same_bits(got.sizes, want.sizes));
    EXPECT_TRUE(same_bits(got.points, gather_tokens_reference(qkv[1], want.layout.order)));
  }
  test::SyntheticLayout q_layout = test::random_layout(bh, tokens, q_clusters);
  test::SyntheticLayout k_layout = test::random_layout(bh, tokens, k_clusters);
  const ClusterLayout k_on_cuda{k_layout.order.to(cuda), k_layout.offsets.to(cuda)};
  {
    SCOPED_TRACE("gather_tokens_and_means");
    const GatheredMeans got = gather_tokens_and_means(qkv[2], k_on_cuda);
    const at::Tensor vp = gather_tokens_reference(qkv[2], k_on_cuda.order);
    EXPECT_TRUE(same_bits(got.xp, vp));
    EXPECT_TRUE(got.means.is_cuda());
    EXPECT_TRUE(test::tensors_close(got.means, cluster_means_reference(vp, k_on_cuda.offsets), 1e-6));
  }
  {
    SCOPED_TRACE("error_probe");
    const at::Tensor q_centroids = at::randn({bh, q_clusters, d}, f32), k_centroids = at::randn({bh, k_clusters, d}, f32);
    const at::Tensor kp = gather_tokens_reference(qkv[1], k_on_cuda.order), sizes = q_layout.sizes.to(cuda);
    const ProbeResult got = error_probe(q_centroids, k_centroids, kp, qkv[2], k_on_cuda, sizes, 0.09, 1.0);
    const ProbeResult want = error_probe_reference(q_centroids, k_centroids, kp, got.vp, k_on_cuda.offsets, sizes,
                                                   got.v_means, 0.09, 1.0);
    EXPECT_TRUE(same_bits(got.vp, gather_tokens_reference(qkv[2], k_on_cuda.order)));
    EXPECT_TRUE(same_bits(got.centroid_logits, want.centroid_logits));
    EXPECT_TRUE(close_where_finite(got.log_error, want.log_error, 1e-6));
    EXPECT_TRUE(close_where_finite(got.score, want.score, 1e-6));
  }
  at::Tensor logits = 3.0 * at::randn({bh, q_clusters, k_clusters}, f32), score = at::randn({bh, q_clusters, k_clusters}, f32);
  at::Tensor q_sizes = q_layout.sizes.to(cuda), k_sizes = k_layout.sizes.to(cuda);
  at::Tensor mask;
  {
    SCOPED_TRACE("route_svgear");
    mask = route_svgear(logits, score, q_sizes, k_sizes, 0.7, 0.05);
    EXPECT_TRUE(same_bits(mask, route_svgear_reference(logits, score, q_sizes, k_sizes, 0.7, 0.05)));
    EXPECT_TRUE(same_bits(route_svg2(logits, k_sizes, 0.7, 0.1), route_svg2_reference(logits, k_sizes, 0.7, 0.1)));
  }
  {
    SCOPED_TRACE("block_sparse_attention");
    at::Tensor qp = gather_tokens_reference(qkv[0], q_layout.order.to(cuda));
    at::Tensor kp = gather_tokens_reference(qkv[1], k_on_cuda.order);
    at::Tensor vp = gather_tokens_reference(qkv[2], k_on_cuda.order);
    const CentroidCompensation compensation{cluster_means_reference(kp, k_on_cuda.offsets),
                                            cluster_means_reference(vp, k_on_cuda.offsets), k_sizes};
    const at::Tensor q_offsets = q_layout.offsets.to(cuda);
    EXPECT_STREQ(block_sparse_kernel_name(cuda, at::kBFloat16, d, k_clusters), "ATen reference");
    const at::Tensor want =
        block_sparse_attention_reference(qp, kp, vp, q_offsets, k_on_cuda.offsets, mask, 0.09, &compensation);
    EXPECT_TRUE(same_bits(block_sparse_attention(qp, kp, vp, q_offsets, k_on_cuda.offsets, mask, 0.09, &compensation),
                          want));
    const ScopedKernelPath fastest(KernelPath::Fastest);
    EXPECT_FALSE(at::equal(block_sparse_attention(qp, kp, vp, q_offsets, k_on_cuda.offsets, mask, 0.09, &compensation),
                           want))
        << "the kernel's own bits";
  }
}

}  // namespace
}  // namespace svgear
