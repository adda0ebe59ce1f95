#include "kernels/cluster_permutation/cluster_permutation.h"

#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "kernels/common/vector_aligned.h"
#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

std::vector<at::Device> devices() {
  std::vector<at::Device> list = {at::kCPU};
  if (at::hasCUDA()) list.push_back(at::Device(at::kCUDA, 0));
  return list;
}

TEST(ClusterPermutation, LayoutIsAStableSortWithOffsets) {
  // Clusters 1 and 3 are empty, cluster 2 holds one token.
  at::Tensor labels = at::tensor({0, 4, 0, 2, 4, 0, 4}, at::kLong).view({1, 7});
  for (const at::Device& device : devices()) {
    ClusterLayout layout = cluster_layout(labels.to(device), 5);
    EXPECT_TRUE(at::equal(layout.order.cpu(), at::tensor({0, 2, 5, 3, 1, 4, 6}, at::kLong).view({1, 7})))
        << device << layout.order;
    EXPECT_TRUE(at::equal(layout.offsets.cpu(), at::tensor({0, 3, 3, 4, 4, 7}, at::kLong).view({1, 6})))
        << device << layout.offsets;
  }
}

TEST(ClusterPermutation, GatherScatterRoundTripAndContiguousClusters) {
  at::manual_seed(11);
  const int64_t bh = 3, n = 101, k = 13;
  at::Tensor labels = at::randint(k, {bh, n}, at::kLong);
  // d = 7: 14-byte rows (the reference, on CUDA too); d = 64: 128-byte rows (CUDA's row-copy kernel).
  for (const int64_t d : {7, 64}) {
    at::Tensor x = at::randn({bh, n, d}).to(at::kBFloat16);
    for (const at::Device& device : devices()) {
      ClusterLayout layout = cluster_layout(labels.to(device), k);
      at::Tensor xp = gather_tokens(x.to(device), layout.order);
      EXPECT_EQ(xp.scalar_type(), at::kBFloat16);
      EXPECT_TRUE(at::equal(xp.cpu(), x.gather(1, layout.order.cpu().unsqueeze(-1).expand({bh, n, d}))))
          << device << " d " << d;
      EXPECT_TRUE(at::equal(scatter_tokens(xp, layout.order).cpu(), x)) << device << " d " << d;
      // Position r of the permuted tensor holds token order[r]; labels along r are sorted.
      at::Tensor permuted_labels = labels.to(device).gather(1, layout.order).cpu();
      EXPECT_TRUE(at::equal(std::get<0>(permuted_labels.sort(1)), permuted_labels)) << device;
      at::Tensor offsets = layout.offsets.cpu();
      for (int64_t b = 0; b < bh; ++b) {
        for (int64_t c = 0; c < k; ++c) {
          const int64_t size = (labels[b] == c).sum().item<int64_t>();
          EXPECT_EQ(offsets[b][c + 1].item<int64_t>() - offsets[b][c].item<int64_t>(), size);
        }
        EXPECT_EQ(offsets[b][k].item<int64_t>(), n);
      }
    }
  }
}

// cluster_means on the gathered rows, and gather_tokens_and_means on the rows in token order: the
// same permuted rows and the same means, bit for bit where the kernel or the CPU reference runs (the
// kernel reads through the order but sums in the same order); the CUDA reference (d = 5) sums with
// index_add_'s atomics, in no fixed order.
TEST(ClusterPermutation, ClusterMeansMatchLoopsAndAreZeroWhenEmpty) {
  at::manual_seed(12);
  const int64_t bh = 2, k = 9;
  const auto check = [&](int64_t d, int64_t n, at::ScalarType dtype) {
    // Cluster 3 empty everywhere, cluster 8 a single token per row.
    at::Tensor labels = at::randint(8, {bh, n}, at::kLong);
    labels.masked_fill_(labels == 3, 0);
    labels.select(1, 17).fill_(8);
    at::Tensor x = at::randn({bh, n, d}, at::kDouble).to(dtype);
    at::Tensor expected = at::zeros({bh, k, d}, at::kDouble);
    for (int64_t b = 0; b < bh; ++b) {
      for (int64_t c = 0; c < k; ++c) {
        at::Tensor in = labels[b] == c;
        if (in.sum().item<int64_t>() > 0) expected[b][c] = x[b].to(at::kDouble).index({in}).mean(0);
      }
    }
    for (const at::Device& device : devices()) {
      ClusterLayout layout = cluster_layout(labels.to(device), k);
      at::Tensor means = cluster_means(gather_tokens(x.to(device), layout.order), layout.offsets);
      EXPECT_EQ(means.scalar_type(), at::kFloat);
      EXPECT_TRUE(test::tensors_close(means.cpu(), expected.to(at::kFloat), 1e-6))
          << device << " " << dtype << " d " << d << " n " << n;
      EXPECT_TRUE(at::equal(means.select(1, 3).cpu(), at::zeros({bh, d}))) << device << " d " << d << " n " << n;
      GatheredMeans fused = gather_tokens_and_means(x.to(device), layout);
      EXPECT_TRUE(at::equal(fused.xp.cpu(), gather_tokens(x, layout.order.cpu()))) << device << " d " << d << " n " << n;
      const bool fixed_order = device.is_cpu() || d % 8 == 0;
      EXPECT_TRUE(fixed_order ? at::equal(fused.means, means) : test::tensors_close(fused.means.cpu(), means.cpu(), 1e-6))
          << device << " " << dtype << " d " << d << " n " << n;
    }
  };
  // d = 5 takes the ATen reference on CUDA, 8 to 256 the kernel (1 to 32 lanes per row, so 32 to 1
  // rows per load); 301 tokens give clusters of ~37 rows, several load rounds of the kernel, and a
  // tail; 1000 give ~140 rows, several batches of 32 row indices. Both half-precision types.
  for (const int64_t d : {5, 8, 64, 128, 256})
    for (const int64_t n : {53, 301, 1000})
      for (const at::ScalarType dtype : {at::kHalf, at::kBFloat16}) check(d, n, dtype);
}

// The DiT's values come as a [H, N, d] view of tokens-first [N, H, d] storage: the gathers and the
// means read such rows in place on CUDA (row strides of whole 16-byte words) and give what they
// give on the contiguous copy, bit for bit; a view whose rows are not 16-byte aligned (one element
// into the storage) takes the copy first, with the same results.
TEST(ClusterPermutation, ReadsStridedRowsLikeContiguousOnes) {
  at::manual_seed(14);
  const int64_t heads = 3, n = 301, k = 11;
  at::Tensor labels = at::randint(k, {heads, n}, at::kLong);
  for (const int64_t d : {8, 64, 128}) {
    at::Tensor storage = at::randn({n, heads, d + 8}).to(at::kBFloat16);
    for (const int64_t skip : {0, 1}) {
      SCOPED_TRACE(::testing::Message() << "d " << d << (skip ? " misaligned" : " aligned"));
      for (const at::Device& device : devices()) {
        at::Tensor tokens_first = storage.to(device).narrow(2, skip, d).permute({1, 0, 2});  // [H, N, d] view
        at::Tensor plain = tokens_first.contiguous();
        ClusterLayout layout = cluster_layout(labels.to(device), k);
        EXPECT_TRUE(at::equal(gather_tokens(tokens_first, layout.order), gather_tokens(plain, layout.order))) << device;
        EXPECT_TRUE(at::equal(scatter_tokens(tokens_first, layout.order), scatter_tokens(plain, layout.order)))
            << device;
        EXPECT_TRUE(at::equal(cluster_means(tokens_first, layout.offsets), cluster_means(plain, layout.offsets)))
            << device;
        GatheredMeans strided = gather_tokens_and_means(tokens_first, layout);
        GatheredMeans contiguous = gather_tokens_and_means(plain, layout);
        EXPECT_TRUE(at::equal(strided.xp, contiguous.xp)) << device;
        EXPECT_TRUE(strided.xp.is_contiguous()) << device;
        EXPECT_TRUE(at::equal(strided.means, contiguous.means)) << device;
      }
    }
  }
}

// row_aligned hands the kernels a tokens-first view as it is (no copy), and copies one whose rows
// are not 16-byte aligned or whose row stride is not whole 16-byte words.
TEST(ClusterPermutation, RowAlignedKeepsAlignedStridedRows) {
  at::Tensor storage = at::randn({50, 3, 72}).to(at::kBFloat16);  // rows of 72 elements: 144 bytes
  at::Tensor view = storage.narrow(2, 0, 64).permute({1, 0, 2});   // [3, 50, 64], rows 216 elements apart
  EXPECT_EQ(row_aligned(view).data_ptr(), view.data_ptr());
  at::Tensor shifted = storage.narrow(2, 1, 64).permute({1, 0, 2});  // 2 bytes into the storage
  EXPECT_TRUE(row_aligned(shifted).is_contiguous());
  EXPECT_TRUE(at::equal(row_aligned(shifted), shifted));
  at::Tensor odd = at::randn({50, 3, 67}).to(at::kBFloat16).narrow(2, 0, 64).permute({1, 0, 2});  // 134-byte rows
  EXPECT_NE(row_aligned(odd).data_ptr(), odd.data_ptr());
}

TEST(ClusterPermutation, RejectsBadArguments) {
  at::Tensor labels = at::zeros({2, 5}, at::kLong);
  EXPECT_THROW(cluster_layout(labels.to(at::kInt), 3), c10::Error);
  EXPECT_THROW(cluster_layout(labels.view({10}), 3), c10::Error);
  EXPECT_THROW(cluster_layout(labels, 0), c10::Error);
  at::Tensor x = at::randn({2, 5, 3});
  EXPECT_THROW(gather_tokens(x, at::zeros({2, 4}, at::kLong)), c10::Error);
  EXPECT_THROW(scatter_tokens(x, at::zeros({2, 5}, at::kInt)), c10::Error);
  EXPECT_THROW(cluster_means(x, at::zeros({3, 4}, at::kLong)), c10::Error);
  ClusterLayout layout = cluster_layout(labels, 3);
  EXPECT_THROW(gather_tokens_and_means(x, {layout.order, at::zeros({3, 4}, at::kLong)}), c10::Error);
  EXPECT_THROW(gather_tokens_and_means(x, {at::zeros({2, 4}, at::kLong), layout.offsets}), c10::Error);
}

}  // namespace
}  // namespace svgear
