#include "kernels/rms_norm_rope/rms_norm_rope.h"

#include <optional>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "kernels/common/kernel_path.h"
#include "kernels/common/row_element_of.h"
#include "kernels/common/vector_aligned.h"
#include "kernels/rms_norm_rope/rms_norm_rope_cuda.cuh"
#endif

namespace svgear {
namespace {

#if SVGEAR_HAVE_CUDA
// The kernel where it handles the call; nullopt sends the caller to the reference. The kernel
// records no autograd graph, so a call that needs gradients (the trainer's) takes the reference.
std::optional<at::Tensor> rms_norm_rope_cuda(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& rotation,
                                             int64_t heads, double eps, at::ScalarType dtype,
                                             RmsNormRopeLayout layout) {
  const int64_t head_dim = x.size(2) / heads;
  const std::optional<RowElement> input = row_element_of(x.scalar_type()), output = row_element_of(dtype);
  const bool needs_grad =
      at::GradMode::is_enabled() && (x.requires_grad() || (weight.defined() && weight.requires_grad()));
  if (!cuda_kernels_serve(x.device()) || needs_grad || !input || !output || !rms_norm_rope_cuda_supports(head_dim)) return std::nullopt;
  const c10::cuda::CUDAGuard device_guard(x.device());
  at::Tensor rows = vector_aligned(x);
  at::Tensor gain = weight.defined() ? vector_aligned(weight) : weight;
  // [N, d/2, 2] float32 (cos, sin) pairs, or undefined: no rotation.
  at::Tensor pairs = rotation.defined() ? vector_aligned(at::view_as_real(rotation.contiguous())) : rotation;
  const bool tokens_first = layout == RmsNormRopeLayout::TokensFirst;
  at::Tensor out = tokens_first ? at::empty({x.size(0), x.size(1), heads, head_dim}, x.options().dtype(dtype))
                                : at::empty({x.size(0), heads, x.size(1), head_dim}, x.options().dtype(dtype));
  RmsNormRopeCudaArgs args;
  args.x = rows.data_ptr();
  args.weight = gain.defined() ? gain.data_ptr<float>() : nullptr;
  args.rotation = pairs.defined() ? pairs.data_ptr<float>() : nullptr;
  args.out = out.data_ptr();
  args.batch = x.size(0);
  args.tokens = x.size(1);
  args.heads = heads;
  args.head_dim = head_dim;
  args.eps = float(eps);
  args.input = *input;
  args.output = *output;
  args.tokens_first = tokens_first;
  launch_rms_norm_rope(args, at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return tokens_first ? out.transpose(1, 2) : out;
}
#endif

}  // namespace

at::Tensor rms_norm_rope(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& rotation,
                         int64_t heads, double eps, at::ScalarType dtype, RmsNormRopeLayout layout) {
  TORCH_CHECK(x.dim() == 3, "rms_norm_rope: x must be [B, N, heads·d], got ", x.sizes());
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "rms_norm_rope: x must be floating point, got ",
              x.scalar_type());
  TORCH_CHECK(heads >= 1 && x.size(2) % heads == 0 && (x.size(2) / heads) % 2 == 0,
              "rms_norm_rope: x's last dim (", x.size(2), ") must be heads (", heads, ") × an even head dim");
  const int64_t head_dim = x.size(2) / heads;
  TORCH_CHECK(!rotation.defined() || (rotation.dim() == 2 && rotation.size(0) == x.size(1) &&
                                      rotation.size(1) == head_dim / 2 && rotation.scalar_type() == at::kComplexFloat),
              "rms_norm_rope: rotation must be [N, d/2] = [", x.size(1), ", ", head_dim / 2,
              "] complex64 or undefined, got ", rotation.sizes(), " ", rotation.scalar_type());
  TORCH_CHECK(!weight.defined() || (weight.dim() == 1 && weight.size(0) == x.size(2) &&
                                    weight.scalar_type() == at::kFloat),
              "rms_norm_rope: weight must be [", x.size(2), "] float32 or undefined, got ",
              weight.defined() ? weight.sizes() : at::IntArrayRef{});
  TORCH_CHECK(at::isFloatingType(dtype), "rms_norm_rope: the output dtype must be floating point, got ", dtype);
  TORCH_CHECK((!rotation.defined() || rotation.device() == x.device()) &&
                  (!weight.defined() || weight.device() == x.device()),
              "rms_norm_rope: x, weight and rotation must be on one device");
  TORCH_CHECK(x.is_cpu() || x.is_cuda(), "rms_norm_rope: unsupported device ", x.device());
#if SVGEAR_HAVE_CUDA
  if (auto out = rms_norm_rope_cuda(x, weight, rotation, heads, eps, dtype, layout)) return *out;
#endif
  return rms_norm_rope_reference(x, weight, rotation, heads, eps, dtype, layout);
}

}  // namespace svgear
