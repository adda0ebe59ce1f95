#pragma once
// Synchronisation for warp-specialised Hopper kernels (a producer warpgroup filling shared-memory
// stages, consumer warpgroups reading them): mbarriers with phase parity, named barriers for one
// warpgroup, and the per-warpgroup register split (setmaxnreg, sm_90a: guard with
// SVGEAR_WGMMA_AVAILABLE like the wgmma calls).
//
// A stage's `full` barrier completes a phase when its data has landed, its `empty` barrier when
// every consumer is done with it. Round r (= use r of the stage) waits on parity r & 1; a producer
// waits on `empty` with the opposite parity, which a fresh barrier reports complete at once, so the
// first round needs no special case.

#include <cstdint>

namespace svgear::pipeline_sm90 {

namespace detail {
__device__ __forceinline__ uint32_t barrier_address(const uint64_t* barrier) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(barrier));
}
}  // namespace detail

// One thread initialises; a barrier (__syncthreads) must follow before any use.
__device__ __forceinline__ void mbarrier_init(uint64_t* barrier, uint32_t arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(detail::barrier_address(barrier)), "r"(arrivals) : "memory");
}

__device__ __forceinline__ void mbarrier_arrive(uint64_t* barrier) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(detail::barrier_address(barrier)) : "memory");
}

// Arrives once this thread's earlier cp.async copies have landed (the thread does not wait). The
// barrier's arrival count includes one per thread that does this.
__device__ __forceinline__ void mbarrier_arrive_on_copies(uint64_t* barrier) {
  asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];\n" ::"r"(detail::barrier_address(barrier)) : "memory");
}

__device__ __forceinline__ void mbarrier_wait(uint64_t* barrier, uint32_t parity) {
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "wait_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra wait_%=;\n"
      "}\n" ::"r"(detail::barrier_address(barrier)),
      "r"(parity)
      : "memory");
}

// Barrier `id` (1..15; 0 is __syncthreads) among `threads` threads, e.g. one warpgroup.
__device__ __forceinline__ void named_barrier(int id, int threads) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

// Registers per thread of the calling warpgroup: the producer gives some up, the consumers take
// them (the kernel's register cap at entry comes from its __launch_bounds__(threads, CTAs per SM)).
template <int Registers>
__device__ __forceinline__ void release_registers() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(Registers));
}
template <int Registers>
__device__ __forceinline__ void claim_registers() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(Registers));
}

}  // namespace svgear::pipeline_sm90
