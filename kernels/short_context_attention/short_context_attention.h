#pragma once
// short_context_attention: many queries over a short context of keys, each key's logit raised by a
// log weight: softmax(q·kᵀ·scale + w)·v per head. A key with w = log n counts as n identical keys,
// which is how the Wan DiT's cross-attention takes upstream's padding of the text to 512 rows as
// one row (core/model/text_context.h).
//
//   q                [B, H, N, d] floating; any batch, head and row strides, rows contiguous
//   k, v             [B, H, L, d] in q's dtype, L >= 1
//   key_log_weights  L finite floats, the same for every batch entry and head
//   out              [B, H, N, d] in q's dtype on q's device, rows contiguous, other strides free: a
//                    [B, H, N, d] view of tokens-first [B, N, H, d] storage merges the heads as a view;
//                    it must not overlap q, k or v
//
// Devices: CUDA q of bf16 or fp16 with d = 64 or 128 and L <= short_context_attention_max_keys(),
// outside autograd, runs one kernel (short_context_attention_cuda.cu: a CTA keeps its head's keys
// and values in shared memory, each warp streams 16-query tiles through mma.sync; fp32 logits and
// softmax, the weights rounded to the input dtype for P·V; ~2e-3 relative L2 from float64 in bf16).
// Everything else runs the ATen reference (float32 math, differentiable), which holds the [B, H, N,
// L] logits and copies the weights to q's device: meant for the CPU and for small calls.

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

namespace svgear {

at::Tensor short_context_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   c10::ArrayRef<float> key_log_weights, double scale);

void short_context_attention_out(at::Tensor& out, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 c10::ArrayRef<float> key_log_weights, double scale);

// The most keys the CUDA kernel takes (one tile of them).
int64_t short_context_attention_max_keys();

// What runs the op for q of `dtype` with `head_dim` and `keys` keys on `device` outside autograd:
// "mma.sync" or "ATen reference".
const char* short_context_kernel_name(const at::Device& device, at::ScalarType dtype, int64_t head_dim, int64_t keys);

// The ATen reference for CPU and CUDA tensors; call short_context_attention, which validates.
at::Tensor short_context_attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                             c10::ArrayRef<float> key_log_weights, double scale);

}  // namespace svgear
