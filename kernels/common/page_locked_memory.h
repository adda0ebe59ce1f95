#pragma once
// Host tensors in page-locked ("pinned") memory of exactly their size, for weights that move between
// the host and a GPU again and again (Wan2.2-A14B's idle expert). Copies from pageable memory ran at
// ~1.2 GB/s each way on an H200 (23 s per move of a 14B expert), from page-locked memory at the
// link's speed (1.1 s). Not LibTorch's pinned allocator: it rounds each block up to a power of two
// (a 14B DiT's 141 MB FFN weights would take 256 MB each, ~1.5x the expert in all), and caches what
// is freed.

#include <ATen/core/Tensor.h>

namespace svgear {

// A copy of the CPU tensor `host` in page-locked memory, contiguous, same dtype, allocated through
// `gpu`'s context (so that no other GPU gets one) and page-locked for every GPU; freed with the last
// tensor that shares it. Undefined where the build has no CUDA, `gpu` is not a CUDA device, or the
// system refuses to lock that much memory (the caller keeps the pageable tensor).
at::Tensor page_locked_copy(const at::Tensor& host, at::Device gpu);

}  // namespace svgear
