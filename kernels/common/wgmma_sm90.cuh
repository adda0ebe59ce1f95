#pragma once
// Hopper warpgroup matrix multiply (wgmma.mma_async, sm_90a only: callers guard their kernels with
// SVGEAR_WGMMA_AVAILABLE). A warpgroup = 4 consecutive warps (128 threads) issues one m64nNk16
// product: A (64×16) from registers, B (16×N) from shared memory through a matrix descriptor, the
// fp32 accumulator in registers. Per warp the register layouts are mma_sm80.cuh's: warp w of the
// warpgroup holds rows 16w..16w+15, A as the m16n8k16 A fragment, the accumulator as N/8 tiles of
// the m16n8 C layout (d[nt][e]: row lane/4 + 8·(e/2), column nt·8 + 2·(lane%4) + e%2).
//
// Shared-memory operands use the 128-byte swizzle: a tile of 16-bit elements is stored as column
// blocks of 64 elements (128 bytes per row), each block rows × 128 bytes, 1024-byte aligned, and the
// 16-byte chunk c of row r sits at chunk c ^ (r % 8) of its row (swizzled_offset). The tensor core
// applies the same XOR to the addresses it computes, which is why the blocks must be 1024-aligned.
// One such layout serves both uses of a [rows][d] tile:
//   K-major B (Kᵀ of Q·Kᵀ: N = rows, K = d): k-step kt starts kt·32 bytes into its column block;
//     8-row groups are 1024 bytes apart (stride offset); the leading offset is unused.
//   MN-major B (V of P·V: K = rows, N = d; transposed): k-step kk starts 16·kk rows down; the 64-wide
//     column blocks are rows·128 bytes apart (leading offset), 8-row groups 1024 (stride offset).
// (PTX ISA, "Shared Memory Matrix Layout" and "Matrix Descriptor Format".)

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SVGEAR_WGMMA_AVAILABLE 1
#else
#define SVGEAR_WGMMA_AVAILABLE 0
#endif

namespace svgear::wgmma_sm90 {

constexpr int kSwizzleBytes = 128;            // bytes per row of a column block
constexpr int kSwizzleGroupBytes = 1024;      // 8 rows: the period of the XOR pattern

// Byte offset of 16-byte chunk `chunk` (of 8 elements) of row `row` in a tile of `rows` rows.
__device__ __forceinline__ int swizzled_offset(int row, int chunk, int rows) {
  const int block = chunk / 8, c = chunk % 8;
  return block * rows * kSwizzleBytes + row * kSwizzleBytes + ((c ^ (row % 8)) * 16);
}

// Matrix descriptor of a 128-byte-swizzled operand starting at `start` (shared memory).
__device__ __forceinline__ uint64_t descriptor(const void* start, uint32_t leading_bytes, uint32_t stride_bytes) {
  const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(start));
  return uint64_t((address & 0x3FFFF) >> 4) | (uint64_t((leading_bytes & 0x3FFFF) >> 4) << 16) |
         (uint64_t((stride_bytes & 0x3FFFF) >> 4) << 32) | (uint64_t(1) << 62);
}

// Before the first wgmma of a batch whose registers (accumulator, A) other instructions wrote.
__device__ __forceinline__ void fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
// Waits until at most `Pending` committed groups are still running.
template <int Pending>
__device__ __forceinline__ void wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(Pending) : "memory");
}
// Pins accumulator registers at this point of the program: the compiler must not move their reads
// or writes across it (an in-flight wgmma owns them until its wait).
template <int Tiles>
__device__ __forceinline__ void fence_operand(float (&d)[Tiles][4]) {
  for (int t = 0; t < Tiles; ++t)
    for (int e = 0; e < 4; ++e) asm volatile("" : "+f"(d[t][e])::"memory");
}
// Shared memory written by ordinary stores or cp.async, read next by the tensor core (async proxy):
// a fence on the path from the writes to the wgmma — in each writing thread before the barrier
// that publishes them, or in the reading thread after it has acquired them (after an mbarrier
// wait).
__device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

// d (+)= a · B, B from shared memory (kTransposeB: MN-major, else K-major). accumulate = false
// overwrites d.
template <typename T, int N, bool kTransposeB>
struct Mma;

#define SVGEAR_WGMMA_RS_M64N64K16(TYPE)                                                                       \
  asm volatile(                                                                                               \
      "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"                                                            \
      "wgmma.mma_async.sync.aligned.m64n64k16.f32." TYPE "." TYPE " {"                                        \
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                                \
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "                     \
      "{%32, %33, %34, %35}, %36, p, 1, 1, %38;\n}\n"                                                         \
      : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),                                           \
        "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),                                           \
        "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),                                           \
        "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),                                           \
        "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),                                           \
        "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),                                           \
        "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),                                           \
        "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3])                                            \
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(int(accumulate)), "n"(int(kTransposeB)))

#define SVGEAR_WGMMA_RS_M64N128K16(TYPE)                                                                      \
  asm volatile(                                                                                               \
      "{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"                                                            \
      "wgmma.mma_async.sync.aligned.m64n128k16.f32." TYPE "." TYPE " {"                                       \
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                                \
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "                      \
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "                      \
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "                     \
      "{%64, %65, %66, %67}, %68, p, 1, 1, %70;\n}\n"                                                         \
      : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),                                           \
        "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),                                           \
        "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),                                           \
        "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),                                           \
        "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),                                           \
        "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),                                           \
        "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),                                           \
        "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3]),                                           \
        "+f"(d[8][0]), "+f"(d[8][1]), "+f"(d[8][2]), "+f"(d[8][3]),                                           \
        "+f"(d[9][0]), "+f"(d[9][1]), "+f"(d[9][2]), "+f"(d[9][3]),                                           \
        "+f"(d[10][0]), "+f"(d[10][1]), "+f"(d[10][2]), "+f"(d[10][3]),                                       \
        "+f"(d[11][0]), "+f"(d[11][1]), "+f"(d[11][2]), "+f"(d[11][3]),                                       \
        "+f"(d[12][0]), "+f"(d[12][1]), "+f"(d[12][2]), "+f"(d[12][3]),                                       \
        "+f"(d[13][0]), "+f"(d[13][1]), "+f"(d[13][2]), "+f"(d[13][3]),                                       \
        "+f"(d[14][0]), "+f"(d[14][1]), "+f"(d[14][2]), "+f"(d[14][3]),                                       \
        "+f"(d[15][0]), "+f"(d[15][1]), "+f"(d[15][2]), "+f"(d[15][3])                                        \
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(int(accumulate)), "n"(int(kTransposeB)))

#if SVGEAR_WGMMA_AVAILABLE
#define SVGEAR_WGMMA_BODY(N, TYPE) SVGEAR_WGMMA_RS_M64N##N##K16(TYPE)
#else
#define SVGEAR_WGMMA_BODY(N, TYPE) __trap()
#endif

#define SVGEAR_WGMMA_SPECIALIZATION(T, N, TYPE)                                                          \
  template <bool kTransposeB>                                                                          \
  struct Mma<T, N, kTransposeB> {                                                                      \
    static __device__ __forceinline__ void run(float (&d)[N / 8][4], const uint32_t (&a)[4], uint64_t b_desc, \
                                               bool accumulate) {                                      \
      SVGEAR_WGMMA_BODY(N, TYPE);                                                                      \
    }                                                                                                  \
  };

SVGEAR_WGMMA_SPECIALIZATION(__nv_bfloat16, 64, "bf16")
SVGEAR_WGMMA_SPECIALIZATION(__nv_bfloat16, 128, "bf16")
SVGEAR_WGMMA_SPECIALIZATION(__half, 64, "f16")
SVGEAR_WGMMA_SPECIALIZATION(__half, 128, "f16")

#undef SVGEAR_WGMMA_SPECIALIZATION
#undef SVGEAR_WGMMA_BODY
#undef SVGEAR_WGMMA_RS_M64N64K16
#undef SVGEAR_WGMMA_RS_M64N128K16

}  // namespace svgear::wgmma_sm90
