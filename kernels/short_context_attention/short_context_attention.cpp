#include "kernels/short_context_attention/short_context_attention.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <ATen/ATen.h>
#include <ATen/MemoryOverlap.h>
#include <ATen/core/grad_mode.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "kernels/common/kernel_path.h"
#include "kernels/common/vector_aligned.h"
#include "kernels/short_context_attention/short_context_attention_cuda.cuh"
#endif

namespace svgear {
namespace {

constexpr int64_t kMaxKeys = 64;  // one key tile of the kernel
constexpr int64_t kMaxGridY = 65535;  // the kernel's grid has a row of CTAs per (batch, head)

#if SVGEAR_HAVE_CUDA
static_assert(kMaxKeys == kShortContextMaxKeys, "the op's bound is the kernel's");

// Whether the kernel takes the call (else the reference does). It records no autograd graph, so a
// call that needs gradients takes the reference.
bool kernel_handles(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const bool half = q.scalar_type() == at::kBFloat16 || q.scalar_type() == at::kHalf;
  const bool needs_grad = at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  return cuda_kernels_serve(q.device()) && half && !needs_grad && short_context_attention_cuda_supports(q.size(3), k.size(2)) &&
         q.size(0) * q.size(1) <= kMaxGridY;
}

void short_context_attention_cuda(at::Tensor& out, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                  c10::ArrayRef<float> key_log_weights, double scale) {
  const c10::cuda::CUDAGuard device_guard(q.device());
  const at::Tensor queries = row_aligned(q);  // [B, H, N, d] rows read where they are
  const at::Tensor keys = vector_aligned(k), values = vector_aligned(v);
  const bool in_place = rows_vector_aligned(out);
  at::Tensor rows = in_place ? out : at::empty(out.sizes(), out.options());
  ShortContextAttentionArgs args;
  args.q = queries.data_ptr();
  args.k = keys.data_ptr();
  args.v = values.data_ptr();
  args.out = rows.data_ptr();
  args.batch = q.size(0);
  args.heads = q.size(1);
  args.tokens = q.size(2);
  args.head_dim = q.size(3);
  args.keys = k.size(2);
  args.q_batch_stride = queries.stride(0);
  args.q_head_stride = queries.stride(1);
  args.q_row_stride = queries.stride(2);
  args.out_batch_stride = rows.stride(0);
  args.out_head_stride = rows.stride(1);
  args.out_row_stride = rows.stride(2);
  args.scale = float(scale);
  std::copy(key_log_weights.begin(), key_log_weights.end(), args.key_log_weights);
  args.element = q.scalar_type() == at::kBFloat16 ? HalfPrecision::BFloat16 : HalfPrecision::Float16;
  if (args.batch * args.heads > 0 && args.tokens > 0) {
    launch_short_context_attention(args, at::cuda::getCurrentCUDAStream());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  if (!in_place) out.copy_(rows);
}
#endif

void validate(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, c10::ArrayRef<float> key_log_weights) {
  TORCH_CHECK(q.dim() == 4 && at::isFloatingType(q.scalar_type()),
              "short_context_attention: q must be a floating [B, H, N, d] tensor, got ", q.scalar_type(), " ",
              q.sizes());
  TORCH_CHECK(k.dim() == 4 && k.size(0) == q.size(0) && k.size(1) == q.size(1) && k.size(3) == q.size(3) &&
                  k.size(2) >= 1 && v.sizes() == k.sizes(),
              "short_context_attention: k and v must be [B, H, L >= 1, d] matching q ", q.sizes(), ", got ",
              k.sizes(), " and ", v.sizes());
  TORCH_CHECK(k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type() &&
                  k.device() == q.device() && v.device() == q.device(),
              "short_context_attention: q, k and v must share a dtype and a device");
  TORCH_CHECK(int64_t(key_log_weights.size()) == k.size(2), "short_context_attention: ", k.size(2),
              " keys need as many log weights, got ", key_log_weights.size());
  TORCH_CHECK(std::all_of(key_log_weights.begin(), key_log_weights.end(), [](float w) { return std::isfinite(w); }),
              "short_context_attention: the key log weights must be finite");
  TORCH_CHECK(q.is_cpu() || q.is_cuda(), "short_context_attention: unsupported device ", q.device());
}

}  // namespace

int64_t short_context_attention_max_keys() { return kMaxKeys; }

const char* short_context_kernel_name(const at::Device& device, at::ScalarType dtype, int64_t head_dim, int64_t keys) {
#if SVGEAR_HAVE_CUDA
  if (cuda_kernels_serve(device) && (dtype == at::kBFloat16 || dtype == at::kHalf) &&
      short_context_attention_cuda_supports(head_dim, keys)) {
    return "mma.sync";
  }
#endif
  (void)device, (void)dtype, (void)head_dim, (void)keys;
  return "ATen reference";
}

at::Tensor short_context_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   c10::ArrayRef<float> key_log_weights, double scale) {
  validate(q, k, v, key_log_weights);
#if SVGEAR_HAVE_CUDA
  if (kernel_handles(q, k, v)) {
    at::Tensor out = at::empty(q.sizes(), q.options().memory_format(at::MemoryFormat::Contiguous));
    short_context_attention_cuda(out, q, k, v, key_log_weights, scale);
    return out;
  }
#endif
  return short_context_attention_reference(q, k, v, key_log_weights, scale);
}

void short_context_attention_out(at::Tensor& out, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 c10::ArrayRef<float> key_log_weights, double scale) {
  validate(q, k, v, key_log_weights);
  TORCH_CHECK(out.sizes() == q.sizes() && out.scalar_type() == q.scalar_type() && out.device() == q.device() &&
                  (out.size(3) <= 1 || out.stride(3) == 1),
              "short_context_attention: out must be a ", q.scalar_type(), " tensor of shape ", q.sizes(), " on ",
              q.device(), " with contiguous rows, got ", out.scalar_type(), " ", out.sizes(), " with strides ",
              out.strides(), " on ", out.device());
  at::assert_no_internal_overlap(out);
  // The kernel's CTAs write out while others still read k, v and other tiles' q.
  at::assert_no_overlap(out, k);
  at::assert_no_overlap(out, v);
  at::assert_no_overlap(out, q);
#if SVGEAR_HAVE_CUDA
  if (kernel_handles(q, k, v)) {
    short_context_attention_cuda(out, q, k, v, key_log_weights, scale);
    return;
  }
#endif
  out.copy_(short_context_attention_reference(q, k, v, key_log_weights, scale));
}

}  // namespace svgear
