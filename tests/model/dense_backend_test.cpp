#include "core/attention/dense_backend.h"

#include <cmath>
#include <iostream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "svgear/build_config.h"
#if SVGEAR_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

// softmax(q kᵀ / sqrt(d)) v in float64 on the CPU.
at::Tensor reference_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  at::Tensor q64 = q.to(at::kCPU, at::kDouble);
  at::Tensor k64 = k.to(at::kCPU, at::kDouble);
  at::Tensor v64 = v.to(at::kCPU, at::kDouble);
  at::Tensor scores = at::matmul(q64, k64.transpose(-1, -2)) / std::sqrt(double(q.size(-1)));
  return at::matmul(at::softmax(scores, -1), v64);
}

struct Case {
  int64_t batch, heads, q_tokens, k_tokens, head_dim;
};
// Awkward token counts (not multiples of any tile), Wan's head dims, cross-attention-like N_k.
const Case kCases[] = {
    {1, 2, 72, 72, 64}, {2, 3, 1000, 1000, 128}, {1, 4, 257, 77, 64}, {1, 1, 1, 1, 128},
};

TEST(DenseBackend, SupportsDenseModeOnly) {
  DenseBackend dense;
  AttentionConfig config;
  std::string why;
  EXPECT_TRUE(dense.supports(config, at::kCPU, &why));
  EXPECT_TRUE(dense.supports(config, at::Device(at::kCUDA, 0), &why));
  config.mode = AttentionMode::SvgEar;
  EXPECT_FALSE(dense.supports(config, at::kCPU, &why));
  EXPECT_NE(why.find("svgear"), std::string::npos) << why;
}

TEST(DenseBackend, CpuMatchesSoftmaxAttention) {
  DenseBackend dense;
  for (const Case& c : kCases) {
    at::Tensor q = at::randn({c.batch, c.heads, c.q_tokens, c.head_dim});
    at::Tensor k = at::randn({c.batch, c.heads, c.k_tokens, c.head_dim});
    at::Tensor v = at::randn({c.batch, c.heads, c.k_tokens, c.head_dim});
    EXPECT_TRUE(test::tensors_close(dense.forward(q, k, v, {}), reference_attention(q, k, v), 1e-5))
        << c.q_tokens << "×" << c.k_tokens << " d" << c.head_dim;
  }
}

// A large CPU call runs in chunks of query rows, polling the run's cancel token before each: the
// chunks (several, the last a remainder) agree with the whole call and the float64 softmax, and a
// cancelled run stops the call instead of finishing it.
TEST(DenseBackend, CpuChunksOfRowsAgreeAndStopWhenCancelled) {
  at::manual_seed(3);
  const int64_t rows = 3 * kCpuChunkRowMultiple + 37;
  at::Tensor q = at::randn({1, 2, rows, 64});
  at::Tensor k = at::randn({1, 2, 300, 64});
  at::Tensor v = at::randn({1, 2, 300, 64});
  // One chunk of kCpuChunkRowMultiple rows' scores: four chunks.
  const int64_t per_chunk = 2 * 300 * kCpuChunkRowMultiple;
  CancelToken running;
  const at::Tensor chunked = cpu_attention_in_row_chunks(q, k, v, &running, per_chunk);
  EXPECT_EQ(chunked.sizes(), q.sizes());
  EXPECT_TRUE(test::tensors_close(chunked, at::scaled_dot_product_attention(q, k, v), 1e-6));
  EXPECT_TRUE(test::tensors_close(chunked, reference_attention(q, k, v), 1e-5));
  // A chunk of fewer than kCpuChunkRowMultiple rows' scores still takes that many rows.
  EXPECT_TRUE(test::tensors_close(cpu_attention_in_row_chunks(q, k, v, nullptr, 1), chunked, 1e-6));

  CancelToken cancelled;
  cancelled.cancel();
  EXPECT_THROW(cpu_attention_in_row_chunks(q, k, v, &cancelled, per_chunk), Cancelled);
  AttentionCall call;
  call.cancel = &cancelled;
  DenseBackend dense;
  EXPECT_THROW(dense.forward(q, k, v, call), Cancelled);
  call.cancel = &running;
  EXPECT_TRUE(test::tensors_close(dense.forward(q, k, v, call), chunked, 1e-6));  // one chunk: small
}

TEST(DenseBackend, RejectsMismatchedInputs) {
  DenseBackend dense;
  at::Tensor q = at::randn({1, 2, 8, 64});
  EXPECT_THROW(dense.forward(q, at::randn({1, 2, 8, 32}), at::randn({1, 2, 8, 32}), {}),
               c10::Error);
  EXPECT_THROW(dense.forward(q, q, at::randn({1, 2, 9, 64}), {}), c10::Error);
  EXPECT_THROW(dense.forward(q, q.to(at::kDouble), q, {}), c10::Error);
  EXPECT_THROW(dense.forward(q.flatten(0, 1), q, q, {}), c10::Error);
}

TEST(DenseBackend, CudaMatchesCpuFloat64) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  DenseBackend dense;
  for (at::ScalarType dtype : {at::kBFloat16, at::kHalf, at::kFloat}) {
    const double tolerance = dtype == at::kFloat ? 1e-5 : 2e-2;
    for (const Case& c : kCases) {
      at::Tensor q = at::randn({c.batch, c.heads, c.q_tokens, c.head_dim});
      at::Tensor k = at::randn({c.batch, c.heads, c.k_tokens, c.head_dim});
      at::Tensor v = at::randn({c.batch, c.heads, c.k_tokens, c.head_dim});
      at::Tensor o = dense.forward(q.to(at::kCUDA, dtype), k.to(at::kCUDA, dtype),
                                   v.to(at::kCUDA, dtype), {});
      EXPECT_EQ(o.scalar_type(), dtype);
      const double err = test::relative_l2(o, reference_attention(q, k, v));
      std::cout << "[ measured ] dense CUDA " << at::toString(dtype) << " " << c.q_tokens << "×"
                << c.k_tokens << " d" << c.head_dim << ": relative L2 " << err << "\n";
      EXPECT_LE(err, tolerance);
    }
  }
}

TEST(DenseBackend, CudaTakesTheDiTLayout) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  // The DiT passes [B, N, H, d] tensors transposed to [B, H, N, d] views.
  DenseBackend dense;
  at::Tensor q = at::randn({1, 300, 12, 128});
  at::Tensor k = at::randn({1, 300, 12, 128});
  at::Tensor v = at::randn({1, 300, 12, 128});
  auto view = [](const at::Tensor& t) { return t.to(at::kCUDA, at::kBFloat16).transpose(1, 2); };
  at::Tensor o = dense.forward(view(q), view(k), view(v), {});
  EXPECT_TRUE(test::tensors_close(
      o, reference_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)), 2e-2));
}

// Out of memory is the call's size, not a cuDNN failure: the next call that fits runs on cuDNN
// again (one large call used to cost a 2× slower backend for the rest of a generation).
TEST(DenseBackend, CudaOutOfMemoryKeepsCudnn) {
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
    EXPECT_THROW(dense.forward(q, k, v, {}), c10::OutOfMemoryError);
    allocator::setMemoryFraction(1.0, 0);
  }
  EXPECT_TRUE(dense.tries_cudnn());
  const at::Tensor q = at::randn({1, 2, 256, 64});
  const at::Tensor o = dense.forward(q.to(bf16), q.to(bf16), q.to(bf16), {});
  EXPECT_LE(test::relative_l2(o, reference_attention(q, q, q)), 2e-2);
  EXPECT_TRUE(dense.tries_cudnn());
#endif
}

}  // namespace
}  // namespace svgear
