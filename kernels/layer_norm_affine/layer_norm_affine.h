#pragma once
// layer_norm_affine: the DiT's LayerNorms made ready for the next projection: LayerNorm over the
// last dim in float32 (upstream WanLayerNorm), then an affine step y · gain + bias in float32 (the
// norm's own weights, or adaLN's modulation 1 + scale and shift, one row per batch entry), rounded
// once to the projection's dtype.
//
//   x:     [B, N, dim], any floating dtype (the float32 residual stream)
//   gain:  [dim] or [B, dim] float32, or undefined together with bias (no affine step)
//   bias:  the same shape as gain
//   returns [B, N, dim] in `dtype`
//
// As ATen ops (layer_norm, then a cast) that is a float32 write and read of the activations more
// than needed, ~0.4 GB per call at Wan-1.3B 480p. Devices: CUDA x and output of bf16, fp16 or
// float32 with dim a multiple of 8 up to 16384, when no gradient is wanted, run
// layer_norm_affine_cuda.cu (a row held in the registers of one to eight warps);
// everything else, training included, the ATen reference. The kernel's mean and variance sum in
// another order than ATen's, so a result on a rounding boundary of `dtype` may round to the
// neighbouring number.

#include <ATen/core/Tensor.h>

namespace svgear {

at::Tensor layer_norm_affine(const at::Tensor& x, const at::Tensor& gain, const at::Tensor& bias, double eps,
                             at::ScalarType dtype);

// The ATen reference for CPU and CUDA tensors; call layer_norm_affine, which validates.
at::Tensor layer_norm_affine_reference(const at::Tensor& x, const at::Tensor& gain, const at::Tensor& bias,
                                       double eps, at::ScalarType dtype);

// A DiT block's gated residual and the next LayerNorm in one pass:
//   sum    = x + y · gate, in float32   (x: [B, N, dim] float32; y: [B, N, dim] floating, the
//            branch's output; gate: [B, dim] float32, or undefined for x + y)
//   normed = layer_norm_affine(sum, gain, bias, eps, dtype)
// As two ops the norm reads the sum back (16 bytes per element against 12), and ATen's add of a
// bf16 branch to a float32 stream runs below the bandwidth. CUDA runs the kernel above
// with the residual in its first pass when y's dtype is `dtype` (the block's case) and no gradient
// is wanted; everything else runs the reference.
struct ResidualNormed {
  at::Tensor sum;     // [B, N, dim] float32
  at::Tensor normed;  // [B, N, dim] in `dtype`
};
ResidualNormed residual_layer_norm_affine(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate,
                                          const at::Tensor& gain, const at::Tensor& bias, double eps,
                                          at::ScalarType dtype);

// Whether residual_layer_norm_affine runs its CUDA kernel for these (valid) arguments: what its GPU
// test checks before comparing the kernel with the reference.
bool residual_layer_norm_affine_runs_kernel(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate,
                                            const at::Tensor& gain, const at::Tensor& bias, at::ScalarType dtype);

// The ATen reference (addcmul or add, then layer_norm_affine_reference); call
// residual_layer_norm_affine, which validates.
ResidualNormed residual_layer_norm_affine_reference(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate,
                                                    const at::Tensor& gain, const at::Tensor& bias, double eps,
                                                    at::ScalarType dtype);

}  // namespace svgear
