#pragma once
// Host tensors in page-locked ("pinned") memory, for weights that move between the host and a GPU
// again and again (Wan2.2-A14B's idle expert). Copies from pageable memory ran at ~1.2 GB/s each way
// on an H200 (23 s per move of a 14B expert), from page-locked memory at the link's speed (1.1 s).
// Not LibTorch's pinned allocator: it rounds each block up to a power of two (a 14B DiT's 141 MB FFN
// weights would take 256 MB each, ~1.5x the expert in all), and caches what is freed.

#include <ATen/core/Tensor.h>

namespace svgear {

// The CPU tensor `host` in page-locked memory, page-locked for every GPU through `gpu`'s context (so
// that no other GPU gets one), freed with the last tensor that shares the result:
// - where `host` is the only handle on all of its memory (one Tensor, one storage user, contiguous,
//   the whole storage), that memory registered in place (cudaHostRegister): no copy and no second
//   allocation. The result wraps it and holds `host`; the registration ends with the result's last
//   holder, before the memory is freed;
// - else, or where the system refuses to lock it in place, a contiguous copy in memory of exactly
//   its size (cudaHostAlloc), so that nothing else sees the result's later writes.
// Undefined where the build has no CUDA, `gpu` is not a CUDA device, or the system refuses to lock
// that much memory either way (the caller keeps the pageable tensor).
at::Tensor page_locked(const at::Tensor& host, at::Device gpu);

}  // namespace svgear
