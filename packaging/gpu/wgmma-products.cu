// Standalone harness, run on the GPU machine, for the three products of a transposed remainder
// tile (docs/kernel-notes.md, "What to do next", item 2): for a cluster's last r ≤ 64 query rows,
//   Sᵀ = K·Qᵀ    wgmma SS form, A = the key stage (K-major, M = 64 keys), B = the rows (N = 16…64)
//   P = bf16(Sᵀ·scale), staged in shared memory K-major as [rows][keys] (plain stores, or
//       stmatrix .trans from the accumulator's bf16 pairs)
//   Oᵀ = Vᵀ·Pᵀ   wgmma SS form, A = the value stage transposed (MN-major, M = 64 of d), B = P
// each checked against the host on random bf16 tiles. It settles the descriptors and layouts before
// a kernel is built on them. Not part of the build:
//   nvcc -std=c++17 -arch=sm_90a -O2 -I. packaging/gpu/wgmma-products.cu -o /tmp/wgmma-products \
//     && /tmp/wgmma-products
// Every stage is the 128-byte-swizzled [rows][d] layout of kernels/common/wgmma_sm90.cuh.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "kernels/common/wgmma_sm90.cuh"

namespace {

using svgear::wgmma_sm90::descriptor;
using svgear::wgmma_sm90::swizzled_offset;
namespace wg = svgear::wgmma_sm90;

constexpr int kKeys = 64;   // one key stage
constexpr int kDim = 128;   // head dim
constexpr int kThreads = 128;  // one warpgroup

// d (+)= A·B, both from shared memory; kTransposeA / kTransposeB: MN-major operands.
template <int N, bool kTransposeA, bool kTransposeB>
struct MmaSS;

#if SVGEAR_WGMMA_AVAILABLE
// One specialisation per N: the accumulator's N / 2 registers per thread are numbered first, then
// the two descriptors, the accumulate predicate and the two transpose immediates.
#define D4(t) "+f"(d[t][0]), "+f"(d[t][1]), "+f"(d[t][2]), "+f"(d[t][3])
#define SVGEAR_MMA_SS(N, DREGS, A, B, ACC, TA, TB, ...)                                                        \
  template <bool kTransposeA, bool kTransposeB>                                                               \
  struct MmaSS<N, kTransposeA, kTransposeB> {                                                                 \
    static __device__ __forceinline__ void run(float (&d)[N / 8][4], uint64_t a_desc, uint64_t b_desc,       \
                                               bool accumulate) {                                             \
      asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, " ACC ", 0;\n"                                           \
                   "wgmma.mma_async.sync.aligned.m64n" #N "k16.f32.bf16.bf16 " DREGS ", " A ", " B ", p, 1, 1, " \
                   TA ", " TB ";\n}\n"                                                                        \
                   : __VA_ARGS__                                                                              \
                   : "l"(a_desc), "l"(b_desc), "r"(int(accumulate)), "n"(int(kTransposeA)), "n"(int(kTransposeB))); \
    }                                                                                                         \
  };
SVGEAR_MMA_SS(16, "{%0, %1, %2, %3, %4, %5, %6, %7}", "%8", "%9", "%10", "%11", "%12",
              D4(0), D4(1))
SVGEAR_MMA_SS(32, "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}", "%16", "%17", "%18", "%19", "%20",
              D4(0), D4(1), D4(2), D4(3))
SVGEAR_MMA_SS(48, "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23}", "%24", "%25", "%26", "%27", "%28",
              D4(0), D4(1), D4(2), D4(3), D4(4), D4(5))
SVGEAR_MMA_SS(64, "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}", "%32", "%33", "%34", "%35", "%36",
              D4(0), D4(1), D4(2), D4(3), D4(4), D4(5), D4(6), D4(7))
SVGEAR_MMA_SS(128, "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}", "%64", "%65", "%66", "%67", "%68",
              D4(0), D4(1), D4(2), D4(3), D4(4), D4(5), D4(6), D4(7), D4(8), D4(9), D4(10), D4(11), D4(12), D4(13), D4(14), D4(15))
#undef SVGEAR_MMA_SS
#undef D4
#endif

// A [rows][kDim] tile from global into the swizzled layout, 16 bytes per thread and step.
__device__ void load_tile(unsigned char* tile, const __nv_bfloat16* src, int rows) {
  for (int i = threadIdx.x; i < rows * (kDim / 8); i += kThreads) {
    const int row = i / (kDim / 8), chunk = i % (kDim / 8);
    *reinterpret_cast<uint4*>(tile + swizzled_offset(row, chunk, rows)) =
        *reinterpret_cast<const uint4*>(src + row * kDim + chunk * 8);
  }
}

__device__ uint32_t pack(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

template <int N, bool kStmatrix>
__global__ void __launch_bounds__(kThreads) products_kernel(const __nv_bfloat16* k, const __nv_bfloat16* q,
                                                            const __nv_bfloat16* v, float scale, float* st,
                                                            __nv_bfloat16* p_out, float* ot) {
#if SVGEAR_WGMMA_AVAILABLE
  extern __shared__ unsigned char raw[];
  unsigned char* base = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(raw) + 1023) & ~uintptr_t(1023));
  unsigned char* ks = base;                         // [64 keys][128]
  unsigned char* vs = ks + kKeys * kDim * 2;        // [64 keys][128]
  unsigned char* qs = vs + kKeys * kDim * 2;        // [N rows][128]
  unsigned char* ps = qs + 64 * kDim * 2;           // [N rows][64 keys]: one 128-byte column block
  load_tile(ks, k, kKeys);
  load_tile(vs, v, kKeys);
  load_tile(qs, q, N);
  wg::fence_proxy_async();
  __syncthreads();

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  float s[N / 8][4];
  wg::fence();
  for (int kt = 0; kt < kDim / 16; ++kt) {
    const int block = kt / 4, within = (kt % 4) * 32;
    MmaSS<N, false, false>::run(s, descriptor(ks + block * kKeys * 128 + within, 16, 1024),
                                descriptor(qs + block * N * 128 + within, 16, 1024), kt > 0);
  }
  wg::commit();
  wg::wait<0>();
  for (int nt = 0; nt < N / 8; ++nt) {
    for (int e = 0; e < 4; ++e) {
      const int key = 16 * warp + lane / 4 + 8 * (e / 2), row = nt * 8 + 2 * (lane % 4) + e % 2;
      st[key * N + row] = s[nt][e];
      p_out[row * kKeys + key] = __float2bfloat16_rn(s[nt][e] * scale);
    }
  }
  if constexpr (kStmatrix) {
    // Matrix i of an x4 store: tile nt + i/2, keys 16·warp + 8·(i%2) …; lane 8i + j addresses
    // that matrix's memory row j (query row (nt + i/2)·8 + j), whose 8 keys are one swizzle chunk.
    for (int nt = 0; nt < N / 8; nt += 2) {
      const uint32_t r0 = pack(s[nt][0] * scale, s[nt][1] * scale), r1 = pack(s[nt][2] * scale, s[nt][3] * scale);
      const uint32_t r2 = pack(s[nt + 1][0] * scale, s[nt + 1][1] * scale),
                     r3 = pack(s[nt + 1][2] * scale, s[nt + 1][3] * scale);
      const int i = lane / 8, j = lane % 8;
      const int row = (nt + i / 2) * 8 + j, chunk = 2 * warp + i % 2;
      const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(ps + swizzled_offset(row, chunk, N)));
      asm volatile("stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%0], {%1, %2, %3, %4};\n" ::"r"(address), "r"(r0),
                   "r"(r1), "r"(r2), "r"(r3)
                   : "memory");
    }
  } else {
    for (int nt = 0; nt < N / 8; ++nt) {
      for (int e = 0; e < 4; ++e) {
        const int key = 16 * warp + lane / 4 + 8 * (e / 2), row = nt * 8 + 2 * (lane % 4) + e % 2;
        *reinterpret_cast<__nv_bfloat16*>(ps + swizzled_offset(row, key / 8, N) + (key % 8) * 2) =
            __float2bfloat16_rn(s[nt][e] * scale);
      }
    }
  }
  wg::fence_proxy_async();
  __syncthreads();

  for (int half = 0; half < 2; ++half) {
    float o[N / 8][4];
    wg::fence();
    for (int kk = 0; kk < kKeys / 16; ++kk) {
      MmaSS<N, true, false>::run(o, descriptor(vs + half * kKeys * 128 + kk * 16 * 128, kKeys * 128, 1024),
                                 descriptor(ps + kk * 32, 16, 1024), kk > 0);
    }
    wg::commit();
    wg::wait<0>();
    for (int nt = 0; nt < N / 8; ++nt) {
      for (int e = 0; e < 4; ++e) {
        const int d = half * 64 + 16 * warp + lane / 4 + 8 * (e / 2), row = nt * 8 + 2 * (lane % 4) + e % 2;
        ot[d * N + row] = o[nt][e];
      }
    }
  }
#else
  __trap();
#endif
}

// Random bf16 pairs in [-2, 2) (a hash of the place): timing on data like the real operands.
__device__ uint32_t random_pair(uint32_t i) {
  i = (i ^ 61u) ^ (i >> 16);
  i *= 9u;
  i ^= i >> 4;
  i *= 0x27d4eb2du;
  i ^= i >> 15;
  return (i & 0xBFFFBFFFu) | 0x3F003F00u;  // sign and low mantissa random, exponent 126 or 127
}
// The dynamic shared memory, 1024-byte aligned for the swizzle, `bytes` of it random pairs.
__device__ unsigned char* random_shared_memory(int bytes) {
  extern __shared__ unsigned char raw[];
  unsigned char* base = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(raw) + 1023) & ~uintptr_t(1023));
  for (int i = threadIdx.x; i < bytes / 4; i += blockDim.x) reinterpret_cast<uint32_t*>(base)[i] = random_pair(i);
  wg::fence_proxy_async();
  __syncthreads();
  return base;
}

// Keeps the results alive and reports CTA 0's clocks.
__device__ void finish_timing(float total, long long begin, float* sink, long long* cycles) {
  sink[blockIdx.x * blockDim.x + threadIdx.x] = total;
  if (blockIdx.x == 0 && threadIdx.x == 0) *cycles = clock64() - begin;
}

// Every product of the timing kernels accumulates into its predecessor's result (S included,
// `it > 0`): a product whose result the next one overwrote is dead code ptxas may drop, and the
// first version of this harness, which overwrote S at each iteration's first k-step, reported
// more FLOP per clock than the tensor cores have.
//
// The products of one 64-key tile, `iters` times over the same shared memory, for throughput:
// the transposed form at N rows (Sᵀ = K·Qᵀ, then Oᵀ = Vᵀ·Pᵀ in two halves of d) against today's tail
// tile (RS form, 64 query rows in registers: S = Q·Kᵀ at N = 64 keys, O += P·V at N = 128 of d).
// No producer: only the tensor cores and their shared-memory reads are timed.
template <int N>
__global__ void __launch_bounds__(kThreads, 2) transposed_timing_kernel(int iters, float* sink, long long* cycles) {
#if SVGEAR_WGMMA_AVAILABLE
  unsigned char* base = random_shared_memory(3 * kKeys * kDim * 2 + 64 * kKeys * 2);
  unsigned char *ks = base, *vs = ks + kKeys * kDim * 2, *qs = vs + kKeys * kDim * 2, *ps = qs + 64 * kDim * 2;
  float s[N / 8][4], o0[N / 8][4], o1[N / 8][4];
  for (int t = 0; t < N / 8; ++t)
    for (int e = 0; e < 4; ++e) o0[t][e] = o1[t][e] = 0.0f;
  const long long begin = clock64();
  for (int it = 0; it < iters; ++it) {
    wg::fence();
    for (int kt = 0; kt < kDim / 16; ++kt) {
      const int block = kt / 4, within = (kt % 4) * 32;
      MmaSS<N, false, false>::run(s, descriptor(ks + block * kKeys * 128 + within, 16, 1024),
                                  descriptor(qs + block * N * 128 + within, 16, 1024), it > 0 || kt > 0);
    }
    for (int kk = 0; kk < kKeys / 16; ++kk) {
      MmaSS<N, true, false>::run(o0, descriptor(vs + kk * 16 * 128, kKeys * 128, 1024), descriptor(ps + kk * 32, 16, 1024), true);
      MmaSS<N, true, false>::run(o1, descriptor(vs + kKeys * 128 + kk * 16 * 128, kKeys * 128, 1024),
                                 descriptor(ps + kk * 32, 16, 1024), true);
    }
    wg::commit();
    wg::wait<0>();
  }
  float total = 0.0f;
  for (int t = 0; t < N / 8; ++t)
    for (int e = 0; e < 4; ++e) total += s[t][e] + o0[t][e] + o1[t][e];
  finish_timing(total, begin, sink, cycles);
#else
  __trap();
#endif
}

__global__ void __launch_bounds__(kThreads, 2) rows64_timing_kernel(int iters, float* sink, long long* cycles) {
#if SVGEAR_WGMMA_AVAILABLE
  unsigned char* base = random_shared_memory(3 * kKeys * kDim * 2 + 64 * kKeys * 2);
  unsigned char *ks = base, *vs = ks + kKeys * kDim * 2;
  uint32_t q_frag[kDim / 16][4], p_frag[kKeys / 16][4];
  for (int kt = 0; kt < kDim / 16; ++kt)
    for (int r = 0; r < 4; ++r) q_frag[kt][r] = random_pair(threadIdx.x * 64 + kt * 4 + r + 1000000u);
  for (int kk = 0; kk < kKeys / 16; ++kk)
    for (int r = 0; r < 4; ++r) p_frag[kk][r] = random_pair(threadIdx.x * 64 + kk * 4 + r + 2000000u);
  float s[kKeys / 8][4], acc[kDim / 8][4];
  for (int t = 0; t < kDim / 8; ++t)
    for (int e = 0; e < 4; ++e) acc[t][e] = 0.0f;
  const long long begin = clock64();
  for (int it = 0; it < iters; ++it) {
    wg::fence();
    for (int kt = 0; kt < kDim / 16; ++kt) {
      wg::Mma<__nv_bfloat16, kKeys, false>::run(
          s, q_frag[kt], descriptor(ks + (kt / 4) * kKeys * 128 + (kt % 4) * 32, 16, 1024), it > 0 || kt > 0);
    }
    for (int kk = 0; kk < kKeys / 16; ++kk) {
      wg::Mma<__nv_bfloat16, kDim, true>::run(acc, p_frag[kk], descriptor(vs + kk * 16 * 128, kKeys * 128, 1024), true);
    }
    wg::commit();
    wg::wait<0>();
  }
  float total = 0.0f;
  for (int t = 0; t < kKeys / 8; ++t)
    for (int e = 0; e < 4; ++e) total += s[t][e];
  for (int t = 0; t < kDim / 8; ++t)
    for (int e = 0; e < 4; ++e) total += acc[t][e];
  finish_timing(total, begin, sink, cycles);
#else
  __trap();
#endif
}

// A whole CTA of today's main launch, tensor side only: kConsumers warpgroups of 64 query rows
// over one 128-key stage per iteration (S = Q·Kᵀ at N = 128, then O += P·V at N = 128 of d). Q in
// registers (RS, today) or read from shared memory (SS: 32 registers fewer per consumer thread,
// what a third consumer needs to fit). One CTA per SM; no producer.
template <int kConsumers, bool kQInSmem>
__global__ void __launch_bounds__(kThreads * kConsumers, 1) consumers_timing_kernel(int iters, float* sink,
                                                                                      long long* cycles) {
#if SVGEAR_WGMMA_AVAILABLE
  constexpr int kStageKeys = 128;
  unsigned char* base = random_shared_memory((2 * kStageKeys + kConsumers * 64) * kDim * 2);
  const int consumer = threadIdx.x / kThreads, t = threadIdx.x % kThreads;
  unsigned char *ks = base, *vs = ks + kStageKeys * kDim * 2, *qs = vs + kStageKeys * kDim * 2 + consumer * 64 * kDim * 2;
  uint32_t q_frag[kDim / 16][4];
  for (int kt = 0; kt < kDim / 16; ++kt)
    for (int r = 0; r < 4; ++r) q_frag[kt][r] = kQInSmem ? 0u : random_pair(t * 64 + kt * 4 + r + 1000000u);
  // P's fragments made per k-step from one register (today's kernel converts S into them): the
  // third consumer's registers hold S and O, not a second copy of P.
  const uint32_t p_seed = random_pair(t + 2000000u);
  float s[kStageKeys / 8][4], acc[kDim / 8][4];
  for (int i = 0; i < kDim / 8; ++i)
    for (int e = 0; e < 4; ++e) acc[i][e] = 0.0f;
  const long long begin = clock64();
  for (int it = 0; it < iters; ++it) {
    wg::fence();
    for (int kt = 0; kt < kDim / 16; ++kt) {
      const uint64_t keys = descriptor(ks + (kt / 4) * kStageKeys * 128 + (kt % 4) * 32, 16, 1024);
      if constexpr (kQInSmem) {
        MmaSS<kStageKeys, false, false>::run(s, descriptor(qs + (kt / 4) * 64 * 128 + (kt % 4) * 32, 16, 1024), keys,
                                             it > 0 || kt > 0);
      } else {
        wg::Mma<__nv_bfloat16, kStageKeys, false>::run(s, q_frag[kt], keys, it > 0 || kt > 0);
      }
    }
    for (int kk = 0; kk < kStageKeys / 16; ++kk) {
      const uint32_t p_frag[4] = {p_seed ^ (kk << 4), p_seed ^ (kk << 5), p_seed ^ (kk << 6), p_seed ^ (kk << 7)};
      wg::Mma<__nv_bfloat16, kDim, true>::run(acc, p_frag, descriptor(vs + kk * 16 * 128, kStageKeys * 128, 1024), true);
    }
    wg::commit();
    wg::wait<0>();
  }
  float total = 0.0f;
  for (int i = 0; i < kStageKeys / 8; ++i)
    for (int e = 0; e < 4; ++e) total += s[i][e] + acc[i][e];
  finish_timing(total, begin, sink, cycles);
#else
  __trap();
#endif
}

float to_float(__nv_bfloat16 x) {
  uint16_t bits;
  std::memcpy(&bits, &x, 2);
  const uint32_t wide = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

__nv_bfloat16 to_bf16(float f) {  // round to nearest even, as __float2bfloat16_rn (finite inputs)
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits += 0x7FFF + ((bits >> 16) & 1);
  const uint16_t top = uint16_t(bits >> 16);
  __nv_bfloat16 x;
  std::memcpy(&x, &top, 2);
  return x;
}

#define CHECK(call)                                                                      \
  do {                                                                                   \
    const cudaError_t e_ = (call);                                                       \
    if (e_ != cudaSuccess) {                                                             \
      std::printf("%s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      return false;                                                                      \
    }                                                                                    \
  } while (0)

template <int N, bool kStmatrix>
bool run_case(std::mt19937& gen) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<__nv_bfloat16> k(kKeys * kDim), v(kKeys * kDim), q(N * kDim);
  for (auto* t : {&k, &v, &q})
    for (auto& x : *t) x = to_bf16(uniform(gen));
  const float scale = 0.125f;
  __nv_bfloat16 *dk, *dv, *dq, *dp;
  float *dst, *dot;
  CHECK(cudaMalloc(&dk, k.size() * 2));
  CHECK(cudaMalloc(&dv, v.size() * 2));
  CHECK(cudaMalloc(&dq, q.size() * 2));
  CHECK(cudaMalloc(&dp, N * kKeys * 2));
  CHECK(cudaMalloc(&dst, kKeys * N * 4));
  CHECK(cudaMalloc(&dot, kDim * N * 4));
  CHECK(cudaMemcpy(dk, k.data(), k.size() * 2, cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(dv, v.data(), v.size() * 2, cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(dq, q.data(), q.size() * 2, cudaMemcpyHostToDevice));
  CHECK(cudaMemset(dst, 0xFF, kKeys * N * 4));  // NaN: an element not written fails
  CHECK(cudaMemset(dot, 0xFF, kDim * N * 4));
  const int smem = 1024 + 3 * kKeys * kDim * 2 + 64 * kKeys * 2;
  CHECK(cudaFuncSetAttribute(products_kernel<N, kStmatrix>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  products_kernel<N, kStmatrix><<<1, kThreads, smem>>>(dk, dq, dv, scale, dst, dp, dot);
  CHECK(cudaGetLastError());
  CHECK(cudaDeviceSynchronize());
  std::vector<float> st(kKeys * N), ot(kDim * N);
  std::vector<__nv_bfloat16> p(N * kKeys);
  CHECK(cudaMemcpy(st.data(), dst, st.size() * 4, cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(ot.data(), dot, ot.size() * 4, cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(p.data(), dp, p.size() * 2, cudaMemcpyDeviceToHost));
  for (void* ptr : {(void*)dk, (void*)dv, (void*)dq, (void*)dp, (void*)dst, (void*)dot}) cudaFree(ptr);

  // Sᵀ against the host (fp32 accumulation of exact bf16 products: ~1e-6 relative); Oᵀ against
  // the host from the device's own P, so rounding P is not part of the comparison.
  double s_err = 0.0, o_err = 0.0, s_max = 0.0, o_max = 0.0;
  for (int key = 0; key < kKeys; ++key) {
    for (int row = 0; row < N; ++row) {
      double ref = 0.0;
      for (int d = 0; d < kDim; ++d) ref += double(to_float(k[key * kDim + d])) * to_float(q[row * kDim + d]);
      s_err = std::fmax(s_err, std::fabs(st[key * N + row] - ref));
      s_max = std::fmax(s_max, std::fabs(ref));
    }
  }
  for (int d = 0; d < kDim; ++d) {
    for (int row = 0; row < N; ++row) {
      double ref = 0.0;
      for (int key = 0; key < kKeys; ++key) ref += double(to_float(v[key * kDim + d])) * to_float(p[row * kKeys + key]);
      o_err = std::fmax(o_err, std::fabs(ot[d * N + row] - ref));
      o_max = std::fmax(o_max, std::fabs(ref));
    }
  }
  const bool ok = s_err <= 1e-4 * s_max && o_err <= 1e-4 * o_max;  // NaN fails both
  std::printf("| %2d | %-8s | %.2e (of %.1f) | %.2e (of %.1f) | %s |\n", N, kStmatrix ? "stmatrix" : "stores",
              s_err, s_max, o_err, o_max, ok ? "pass" : "FAIL");
  return ok;
}

}  // namespace

struct Timing {
  float ms;
  double cycles;  // SM clocks of CTA 0's loop
};

// `iters` tiles in every CTA of two per SM.
template <typename Kernel>
Timing time_kernel(Kernel kernel, int iters) {
  int sms = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  const int smem = 1024 + 3 * kKeys * kDim * 2 + 64 * kKeys * 2;
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  float* sink = nullptr;
  long long* cycles = nullptr;
  cudaMalloc(&sink, size_t(sms) * 2 * kThreads * 4);
  cudaMalloc(&cycles, sizeof(long long));
  kernel<<<sms * 2, kThreads, smem>>>(iters, sink, cycles);  // warm-up
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  cudaEventRecord(start);
  kernel<<<sms * 2, kThreads, smem>>>(iters, sink, cycles);
  cudaEventRecord(stop);
  cudaEventSynchronize(stop);
  float ms = 0.0f;
  cudaEventElapsedTime(&ms, start, stop);
  long long clocks = 0;
  cudaMemcpy(&clocks, cycles, sizeof clocks, cudaMemcpyDeviceToHost);
  cudaFree(sink);
  cudaFree(cycles);
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) std::printf("timing: %s\n", cudaGetErrorString(e));
  return {ms, double(clocks)};
}

int main() {
  std::mt19937 gen(7);
  std::printf("| N | P staged by | max error Sᵀ | max error Oᵀ | |\n|---|---|---|---|---|\n");
  bool ok = true;
  ok &= run_case<16, false>(gen);
  ok &= run_case<32, false>(gen);
  ok &= run_case<48, false>(gen);
  ok &= run_case<64, false>(gen);
  ok &= run_case<16, true>(gen);
  ok &= run_case<32, true>(gen);
  ok &= run_case<48, true>(gen);
  ok &= run_case<64, true>(gen);
  std::printf("%s\n\n", ok ? "all pass" : "some FAIL");

  // One 64-key tile's products per iteration, two CTAs per SM, no producer. A row's cost is the
  // tile time over the rows it holds: today a tail of r ≤ 64 rows pays the 64-row tile.
  int sms = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  const int iters = 4000;
  const double tiles = double(sms) * 2 * iters;
  const Timing rows64 = time_kernel(rows64_timing_kernel, iters);
  std::printf("| form | rows | ms | clocks per tile (CTA 0) | FLOP per clock and SM (2 CTAs) | TFLOP/s on the rows | "
              "tile time against RS 64 rows |\n|---|---|---|---|---|---|---|\n");
  auto row = [&](const char* form, int rows, Timing t) {
    const double flop_per_tile = 2.0 * 2.0 * kKeys * rows * kDim;
    std::printf("| %s | %d | %.3f | %.0f | %.0f | %.0f | %.2f |\n", form, rows, t.ms, t.cycles / iters,
                2.0 * flop_per_tile / (t.cycles / iters), tiles * flop_per_tile / (t.ms * 1e9), t.ms / rows64.ms);
  };
  row("RS (today's tail)", 64, rows64);
  row("SS transposed", 16, time_kernel(transposed_timing_kernel<16>, iters));
  row("SS transposed", 32, time_kernel(transposed_timing_kernel<32>, iters));
  row("SS transposed", 48, time_kernel(transposed_timing_kernel<48>, iters));
  row("SS transposed", 64, time_kernel(transposed_timing_kernel<64>, iters));

  // Today's main launch (two consumers, Q in registers) against three consumers with Q in shared
  // memory: a 128-key stage's products per iteration, one CTA per SM.
  std::printf("\n| consumers | Q from | clocks per stage (CTA 0) | FLOP per clock and SM | rows per CTA | clocks per stage "
              "and 64 rows |\n|---|---|---|---|---|---|\n");
  auto consumers = [&](auto kernel, int count, const char* q_from) {
    const int smem = 1024 + (2 * 128 + count * 64) * kDim * 2;
    cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    float* sink = nullptr;
    long long* cycles = nullptr;
    cudaMalloc(&sink, size_t(sms) * count * kThreads * 4);
    cudaMalloc(&cycles, sizeof(long long));
    kernel<<<sms, kThreads * count, smem>>>(iters, sink, cycles);
    cudaDeviceSynchronize();
    long long clocks = 0;
    cudaMemcpy(&clocks, cycles, sizeof clocks, cudaMemcpyDeviceToHost);
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) std::printf("timing: %s\n", cudaGetErrorString(e));
    cudaFree(sink);
    cudaFree(cycles);
    const double per_stage = double(clocks) / iters, flop = count * 2.0 * 2.0 * 64 * 128 * kDim;
    std::printf("| %d | %s | %.0f | %.0f | %d | %.0f |\n", count, q_from, per_stage, flop / per_stage, count * 64,
                per_stage / count);
  };
  consumers(consumers_timing_kernel<2, false>, 2, "registers (today)");
  consumers(consumers_timing_kernel<2, true>, 2, "shared memory");
  consumers(consumers_timing_kernel<3, true>, 3, "shared memory");
  return ok ? 0 : 1;
}
