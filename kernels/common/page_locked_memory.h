#pragma once
// Host tensors in page-locked ("pinned") memory, for weights that move between the host and a GPU
// again and again (Wan2.2-A14B's idle expert). Copies from pageable memory ran at ~1.2 GB/s each way
// on an H200 (23 s per move of a 14B expert), from page-locked memory at the link's speed (1.1 s).
// Not LibTorch's pinned allocator: it rounds each block up to a power of two (a 14B DiT's 141 MB FFN
// weights would take 256 MB each, ~1.5x the expert in all), and caches what is freed.

#include <ATen/core/Tensor.h>

namespace svgear {

// The CPU tensor `host` in page-locked memory, page-locked for every GPU through `gpu`'s context (so
// that no other GPU gets one), freed with the last tensor that shares it:
// - where `host` is contiguous, its own memory, registered in place (cudaHostRegister): no copy and
//   no second allocation; the returned tensor shares `host`'s storage and unregisters it when the
//   last tensor that holds the registration goes;
// - where that is refused (a page already registered through a neighbouring tensor, memory the
//   system will not lock in place), a contiguous copy in memory of exactly its size (cudaHostAlloc).
// Undefined where the build has no CUDA, `gpu` is not a CUDA device, or the system refuses to lock
// that much memory either way (the caller keeps the pageable tensor).
at::Tensor page_locked(const at::Tensor& host, at::Device gpu);

}  // namespace svgear
