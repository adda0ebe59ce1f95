// page_locked (kernels/common/page_locked_memory.h): a host tensor that nothing else reaches is
// page-locked in place, unregistered before its memory is freed; anything else is copied into
// page-locked memory; the values are always those of the tensor given.

#include "kernels/common/page_locked_memory.h"

#include <cstdlib>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "svgear/build_config.h"
#if SVGEAR_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace svgear {
namespace {

TEST(PageLockedMemory, NeedsACudaDevice) {
  const at::Tensor host = at::rand({64, 64});
  EXPECT_FALSE(page_locked(host, at::Device(at::kCPU)).defined());
  if (!at::hasCUDA()) {
    EXPECT_FALSE(page_locked(host, at::Device(at::kCUDA, 0)).defined());
  }
}

#if SVGEAR_HAVE_CUDA
// What happened to a malloc'd buffer when its tensor freed it.
struct FreeRecord {
  bool freed = false;
  bool registered_at_free = false;
};

// A tensor over a malloc'd buffer of `floats` values 0, 1, 2, …, which records its own free.
at::Tensor recorded_tensor(int64_t floats, FreeRecord& record) {
  void* buffer = std::malloc(floats * sizeof(float));
  at::Tensor host = at::from_blob(
      buffer, {floats},
      [&record](void* p) {
        cudaPointerAttributes attributes{};
        record.registered_at_free =
            cudaPointerGetAttributes(&attributes, p) == cudaSuccess && attributes.type == cudaMemoryTypeHost;
        (void)cudaGetLastError();
        std::free(p);
        record.freed = true;
      },
      at::kFloat);
  host.copy_(at::arange(floats, at::kFloat));
  return host;
}

TEST(PageLockedMemory, RegistersASoleTensorInPlaceUntilTheLastHolderGoes) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda(at::kCUDA, 0);
  FreeRecord record;
  at::Tensor host = recorded_tensor(1 << 20, record);  // 4 MiB
  const at::Tensor values = host.clone();
  ASSERT_FALSE(host.is_pinned());
  const void* memory = host.data_ptr();

  at::Tensor locked = page_locked(host, cuda);
  ASSERT_TRUE(locked.defined());
  EXPECT_EQ(locked.data_ptr(), memory);  // no copy
  EXPECT_TRUE(locked.is_pinned());
  EXPECT_TRUE(at::equal(locked, values));
  EXPECT_TRUE(at::equal(locked.to(cuda).cpu(), values));

  // The result holds the memory: dropping the tensor given frees nothing.
  host = at::Tensor();
  EXPECT_FALSE(record.freed);
  locked.copy_(values.flip(0).to(cuda));
  EXPECT_TRUE(at::equal(locked, values.flip(0)));

  // Its last holder, a view here, unregisters the memory and then frees it.
  at::Tensor view = locked.view({1024, 1024});
  locked = at::Tensor();
  EXPECT_FALSE(record.freed);
  EXPECT_TRUE(view.is_pinned());
  view = at::Tensor();
  EXPECT_TRUE(record.freed);
  EXPECT_FALSE(record.registered_at_free);
  EXPECT_EQ(cudaPeekAtLastError(), cudaSuccess);
}

TEST(PageLockedMemory, CopiesWhatOthersReachOrCudaRefuses) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda(at::kCUDA, 0);
  // Memory another handle reaches (another Tensor, a view, a transposed view) is copied: the
  // result's later writes must not show through them.
  const at::Tensor host = at::rand({300, 500});
  at::Tensor second_handle = host;
  for (const at::Tensor& other : {host, host.view({500, 300}), host.t()}) {
    const at::Tensor copy = page_locked(other, cuda);
    ASSERT_TRUE(copy.defined());
    EXPECT_NE(copy.data_ptr(), host.data_ptr());
    EXPECT_TRUE(copy.is_pinned());
    EXPECT_TRUE(copy.is_contiguous());
    EXPECT_TRUE(at::equal(copy, other));
  }
  EXPECT_FALSE(host.is_pinned());

  // A sole tensor whose bytes are registered already: CUDA refuses a second registration, and the
  // refusal leaves no error behind for the next CUDA call.
  FreeRecord record;
  {
    at::Tensor registered = recorded_tensor(100003, record);
    ASSERT_EQ(cudaHostRegister(registered.data_ptr(), registered.nbytes(), cudaHostRegisterPortable), cudaSuccess);
    const at::Tensor values = registered.clone();
    void* const memory = registered.data_ptr();
    const at::Tensor copy = page_locked(registered, cuda);
    EXPECT_EQ(cudaPeekAtLastError(), cudaSuccess);
    ASSERT_TRUE(copy.defined());
    EXPECT_NE(copy.data_ptr(), memory);
    EXPECT_TRUE(copy.is_pinned());
    EXPECT_TRUE(at::equal(copy, values));
    ASSERT_EQ(cudaHostUnregister(memory), cudaSuccess);
  }
  EXPECT_TRUE(record.freed);

  const at::Tensor empty = page_locked(at::empty({0, 8}), cuda);
  ASSERT_TRUE(empty.defined());
  EXPECT_EQ(empty.sizes(), at::IntArrayRef({0, 8}));
}
#endif

}  // namespace
}  // namespace svgear
