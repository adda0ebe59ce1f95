// page_locked (kernels/common/page_locked_memory.h): a host tensor page-locked in place where CUDA
// allows it, else copied into page-locked memory; the values always those of the tensor given.

#include "kernels/common/page_locked_memory.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace svgear {
namespace {

TEST(PageLockedMemory, NeedsACudaDevice) {
  const at::Tensor host = at::rand({64, 64});
  EXPECT_FALSE(page_locked(host, at::Device(at::kCPU)).defined());
  if (!at::hasCUDA()) {
    EXPECT_FALSE(page_locked(host, at::Device(at::kCUDA, 0)).defined());
  }
}

TEST(PageLockedMemory, RegistersAContiguousTensorInPlaceUntilTheLastHolderGoes) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda(at::kCUDA, 0);
  at::Tensor host = at::rand({1027, 1031}).to(at::kBFloat16);  // ~2 MiB, not a whole number of pages
  const at::Tensor values = host.clone();
  ASSERT_FALSE(host.is_pinned());

  at::Tensor locked = page_locked(host, cuda);
  ASSERT_TRUE(locked.defined());
  EXPECT_TRUE(locked.is_pinned());
  EXPECT_EQ(locked.data_ptr(), host.data_ptr());  // no copy
  EXPECT_TRUE(host.is_pinned());
  EXPECT_TRUE(at::equal(locked, values));
  EXPECT_TRUE(at::equal(locked.to(cuda).cpu(), values));
  // The registration outlives `host`'s own handle: the locked tensor keeps the memory alive.
  const void* memory = host.data_ptr();
  host = at::Tensor();
  EXPECT_EQ(locked.data_ptr(), memory);
  EXPECT_TRUE(locked.is_pinned());
  locked.copy_(values.flip(0).to(cuda));
  EXPECT_TRUE(at::equal(locked, values.flip(0)));

  // The last holder unregisters the memory; a tensor that shares the memory from before stays pageable.
  const at::Tensor kept = at::rand({513, 257});
  at::Tensor registered = page_locked(kept, cuda);
  ASSERT_EQ(registered.data_ptr(), kept.data_ptr());
  at::Tensor view_of_it = registered.view({-1});
  registered = at::Tensor();
  EXPECT_TRUE(kept.is_pinned());
  view_of_it = at::Tensor();
  EXPECT_FALSE(kept.is_pinned());
}

TEST(PageLockedMemory, CopiesWhatCannotBeRegisteredInPlace) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda(at::kCUDA, 0);
  const at::Tensor host = at::rand({300, 500});
  const at::Tensor locked = page_locked(host, cuda);
  ASSERT_TRUE(locked.defined());
  ASSERT_EQ(locked.data_ptr(), host.data_ptr());

  // Memory already registered (a second tensor over the same pages) and a transposed view are
  // copied: contiguous, page-locked, the same values.
  for (const at::Tensor& other : {host.view({500, 300}), host.t()}) {
    const at::Tensor copy = page_locked(other, cuda);
    ASSERT_TRUE(copy.defined());
    EXPECT_NE(copy.data_ptr(), host.data_ptr());
    EXPECT_TRUE(copy.is_pinned());
    EXPECT_TRUE(copy.is_contiguous());
    EXPECT_TRUE(at::equal(copy, other));
  }
  const at::Tensor empty = page_locked(at::empty({0, 8}), cuda);
  ASSERT_TRUE(empty.defined());
  EXPECT_EQ(empty.sizes(), at::IntArrayRef({0, 8}));
}

}  // namespace
}  // namespace svgear
