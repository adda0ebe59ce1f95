// DenseBackend: exact attention, and on CUDA cuDNN first, which only cuDNN's own failures turn off.

#include <cmath>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "svgear/build_config.h"
#if SVGEAR_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

#include "core/attention/dense_backend.h"

namespace svgear {
namespace {

TEST(DenseBackend, IsSoftmaxAttention) {
  at::manual_seed(5);
  const at::Tensor q = at::randn({2, 3, 7, 16});
  const at::Tensor k = at::randn({2, 3, 5, 16});
  const at::Tensor v = at::randn({2, 3, 5, 8});
  DenseBackend dense;
  const at::Tensor got = dense.forward(q, k, v, AttentionCall{});
  const at::Tensor q64 = q.to(at::kDouble), k64 = k.to(at::kDouble), v64 = v.to(at::kDouble);
  const at::Tensor expected = at::softmax(at::matmul(q64, k64.transpose(-1, -2)) / std::sqrt(16.0), -1).matmul(v64);
  EXPECT_EQ(got.sizes(), (at::IntArrayRef{2, 3, 7, 8}));
  EXPECT_LT((got.to(at::kDouble) - expected).abs().max().item<double>(), 1e-5);
  EXPECT_TRUE(dense.tries_cudnn());  // nothing failed
}

// Out of memory is the call's size, not a cuDNN failure: the next call that fits runs on cuDNN
// again (a 2× slower backend for the rest of a generation was the price of one large call).
TEST(DenseBackendCuda, OutOfMemoryKeepsCudnn) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
#if !SVGEAR_HAVE_CUDA
  GTEST_SKIP() << "a build without CUDA";
#else
  namespace allocator = c10::cuda::CUDACachingAllocator;
  const at::TensorOptions bf16 = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA, 0);
  DenseBackend dense;
  {
    // 64 MiB each; the allocator's limit (this process only: ctest runs GPU tests side by side)
    // leaves no room for the output.
    const at::Tensor q = at::randn({1, 8, 32768, 128}, bf16);
    const at::Tensor k = at::randn({1, 8, 32768, 128}, bf16);
    const at::Tensor v = at::randn({1, 8, 32768, 128}, bf16);
    allocator::emptyCache();
    constexpr auto kAll = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    const int64_t reserved = allocator::getDeviceStats(0).reserved_bytes[kAll].current;
    size_t free = 0, total = 0;
    ASSERT_EQ(cudaMemGetInfo(&free, &total), cudaSuccess);
    allocator::setMemoryFraction(double(reserved + (16 << 20)) / double(total), 0);
    EXPECT_THROW(dense.forward(q, k, v, AttentionCall{}), c10::OutOfMemoryError);
    allocator::setMemoryFraction(1.0, 0);
  }
  EXPECT_TRUE(dense.tries_cudnn());
  const at::Tensor q = at::randn({1, 2, 256, 64}, bf16);
  const at::Tensor o = dense.forward(q, q, q, AttentionCall{});
  const at::Tensor expected = at::softmax(at::matmul(q.to(at::kFloat), q.to(at::kFloat).transpose(-1, -2)) / 8.0, -1)
                                  .matmul(q.to(at::kFloat));
  EXPECT_LT((o.to(at::kFloat) - expected).abs().max().item<float>(), 2e-2);
  EXPECT_TRUE(dense.tries_cudnn());
#endif
}

}  // namespace
}  // namespace svgear
