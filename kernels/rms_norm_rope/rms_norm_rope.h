#pragma once
// rms_norm_rope: a query or key projection made ready for the attention call: Wan's RMSNorm over
// the whole projection (upstream WanRMSNorm: normalised in float32, rounded to x's dtype, times the
// float32 gain), each head's 3-axis rotary embedding (channel pairs times e^{i·angle}, in float32;
// self-attention only), cast to the attention's dtype, in the layout the attention takes.
//
//   x:        [B, N, heads·d], any floating dtype (the projection's)
//   weight:   [heads·d] float32 gain, or undefined (a model without qk_norm: no norm)
//   rotation: [N, d/2] complex64, e^{i·angle} per token and channel pair (RopeTable::rotation), or
//             undefined: no rotation (the cross-attention's queries)
//   returns   [B, heads, N, d] in `dtype`: contiguous (HeadsFirst: what the sparse backends take), or
//             a transposed view of [B, N, heads, d] storage (TokensFirst: the cross-attention's
//             SDPA then writes its output tokens first too, so merging the heads is a view)
//
// As ATen ops these steps are ~10 passes over float32 copies of the projection (~2.8 GB per call at
// Wan-1.3B 480p); the CUDA kernel reads x once and writes the result once.
// Devices: CUDA x of bf16, fp16 or float32 with d a multiple of 8, when no gradient is wanted, runs
// rms_norm_rope_cuda.cu (a warp per token); everything else, training included, the ATen reference. The kernel sums the squares in another order
// than ATen, so where the normalised value sits on a rounding boundary of x's dtype it may round to
// the neighbouring number: its results agree with the reference to one unit of x's dtype.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace svgear {

enum class RmsNormRopeLayout { HeadsFirst, TokensFirst };

at::Tensor rms_norm_rope(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& rotation,
                         int64_t heads, double eps, at::ScalarType dtype,
                         RmsNormRopeLayout layout = RmsNormRopeLayout::HeadsFirst);

// The ATen reference for CPU and CUDA tensors; call rms_norm_rope, which validates.
at::Tensor rms_norm_rope_reference(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& rotation,
                                   int64_t heads, double eps, at::ScalarType dtype,
                                   RmsNormRopeLayout layout = RmsNormRopeLayout::HeadsFirst);

}  // namespace svgear
