#include "kernels/layer_norm_affine/layer_norm_affine.h"

#include <optional>
#include <utility>

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
#include "kernels/layer_norm_affine/layer_norm_affine_cuda.cuh"
#endif

namespace svgear {
namespace {

#if SVGEAR_HAVE_CUDA
// A residual for the kernel's first pass: y and gate as residual_layer_norm_affine takes them.
struct Residual {
  at::Tensor y, gate;
};

bool needs_grad(const at::Tensor& t) { return t.defined() && t.requires_grad(); }

// Whether the kernel handles the call. It records no autograd graph, so a call that needs
// gradients (the trainer's) takes the reference; with a residual it reads y in the output's type.
bool kernel_handles(const at::Tensor& x, const at::Tensor& gain, const at::Tensor& bias, at::ScalarType dtype,
                    const Residual* residual) {
  const bool gradients =
      at::GradMode::is_enabled() && (needs_grad(x) || needs_grad(gain) || needs_grad(bias) ||
                                     (residual && (needs_grad(residual->y) || needs_grad(residual->gate))));
  return cuda_kernels_serve(x.device()) && !gradients && row_element_of(x.scalar_type()) && row_element_of(dtype) &&
         (!residual || residual->y.scalar_type() == dtype) && layer_norm_affine_cuda_supports(x.size(2));
}

// The kernel where it handles the call (with `residual`, the sum goes to `sum`); nullopt sends
// the caller to the reference.
std::optional<at::Tensor> layer_norm_affine_cuda(const at::Tensor& x, const at::Tensor& gain, const at::Tensor& bias,
                                                 double eps, at::ScalarType dtype, const Residual* residual = nullptr,
                                                 at::Tensor* sum = nullptr) {
  if (!kernel_handles(x, gain, bias, dtype, residual)) return std::nullopt;
  const c10::cuda::CUDAGuard device_guard(x.device());
  at::Tensor rows = vector_aligned(x);
  at::Tensor g = gain.defined() ? vector_aligned(gain) : gain;
  at::Tensor h = bias.defined() ? vector_aligned(bias) : bias;
  at::Tensor out = at::empty(x.sizes(), x.options().dtype(dtype));
  LayerNormAffineCudaArgs args;
  args.x = rows.data_ptr();
  at::Tensor y, gate;
  if (residual) {
    y = vector_aligned(residual->y);
    gate = residual->gate.defined() ? vector_aligned(residual->gate) : residual->gate;
    *sum = at::empty(x.sizes(), x.options());
    args.y = y.data_ptr();
    args.gate = gate.defined() ? gate.data_ptr<float>() : nullptr;
    args.sum = sum->data_ptr<float>();
  }
  args.gain = g.defined() ? g.data_ptr<float>() : nullptr;
  args.bias = h.defined() ? h.data_ptr<float>() : nullptr;
  args.affine_stride = g.defined() && g.dim() == 2 ? x.size(2) : 0;
  args.out = out.data_ptr();
  args.batch = x.size(0);
  args.tokens = x.size(1);
  args.dim = x.size(2);
  args.eps = float(eps);
  args.input = *row_element_of(x.scalar_type());
  args.output = *row_element_of(dtype);
  launch_layer_norm_affine(args, at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}
#endif

void check_arguments(const char* op, const at::Tensor& x, const at::Tensor& gain, const at::Tensor& bias,
                     at::ScalarType dtype) {
  TORCH_CHECK(x.dim() == 3, op, ": x must be [B, N, dim], got ", x.sizes());
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), op, ": x must be floating point, got ",
              x.scalar_type());
  const int64_t dim = x.size(2);
  TORCH_CHECK(gain.defined() == bias.defined(), op, ": gain and bias are both defined or both not");
  if (gain.defined()) {
    const bool shared = gain.dim() == 1 && gain.size(0) == dim;
    const bool per_batch = gain.dim() == 2 && gain.size(0) == x.size(0) && gain.size(1) == dim;
    TORCH_CHECK((shared || per_batch) && gain.scalar_type() == at::kFloat,
                op, ": gain must be [", dim, "] or [", x.size(0), ", ", dim, "] float32, got ",
                gain.sizes(), " ", gain.scalar_type());
    TORCH_CHECK(bias.sizes() == gain.sizes() && bias.scalar_type() == at::kFloat,
                op, ": bias must be float32 shaped like gain ", gain.sizes(), ", got ", bias.sizes(), " ",
                bias.scalar_type());
    TORCH_CHECK(gain.device() == x.device() && bias.device() == x.device(),
                op, ": x, gain and bias must be on one device");
  }
  TORCH_CHECK(at::isFloatingType(dtype), op, ": the output dtype must be floating point, got ", dtype);
  TORCH_CHECK(x.is_cpu() || x.is_cuda(), op, ": unsupported device ", x.device());
}

}  // namespace

at::Tensor layer_norm_affine(const at::Tensor& x, const at::Tensor& gain, const at::Tensor& bias, double eps,
                             at::ScalarType dtype) {
  check_arguments("layer_norm_affine", x, gain, bias, dtype);
#if SVGEAR_HAVE_CUDA
  if (auto out = layer_norm_affine_cuda(x, gain, bias, eps, dtype)) return *out;
#endif
  return layer_norm_affine_reference(x, gain, bias, eps, dtype);
}

ResidualNormed residual_layer_norm_affine(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate,
                                          const at::Tensor& gain, const at::Tensor& bias, double eps,
                                          at::ScalarType dtype) {
  check_arguments("residual_layer_norm_affine", x, gain, bias, dtype);
  TORCH_CHECK(x.scalar_type() == at::kFloat, "residual_layer_norm_affine: x (the residual stream) must be float32, got ",
              x.scalar_type());
  TORCH_CHECK(y.defined() && y.sizes() == x.sizes() && at::isFloatingType(y.scalar_type()) && y.device() == x.device(),
              "residual_layer_norm_affine: y must be floating point shaped like x ", x.sizes(), " on ", x.device(),
              ", got ", y.defined() ? y.sizes() : at::IntArrayRef{}, " ",
              y.defined() ? y.scalar_type() : at::ScalarType::Undefined, " on ", y.defined() ? y.device() : x.device());
  if (gate.defined()) {
    TORCH_CHECK(gate.dim() == 2 && gate.size(0) == x.size(0) && gate.size(1) == x.size(2) &&
                    gate.scalar_type() == at::kFloat && gate.device() == x.device(),
                "residual_layer_norm_affine: gate must be [", x.size(0), ", ", x.size(2), "] float32 on ", x.device(),
                ", got ", gate.sizes(), " ", gate.scalar_type(), " on ", gate.device());
  }
#if SVGEAR_HAVE_CUDA
  const Residual residual{y, gate};
  at::Tensor sum;
  if (auto normed = layer_norm_affine_cuda(x, gain, bias, eps, dtype, &residual, &sum)) {
    return {std::move(sum), std::move(*normed)};
  }
#endif
  return residual_layer_norm_affine_reference(x, y, gate, gain, bias, eps, dtype);
}

bool residual_layer_norm_affine_runs_kernel(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate,
                                            const at::Tensor& gain, const at::Tensor& bias, at::ScalarType dtype) {
#if SVGEAR_HAVE_CUDA
  const Residual residual{y, gate};
  return kernel_handles(x, gain, bias, dtype, &residual);
#else
  (void)x, (void)y, (void)gate, (void)gain, (void)bias, (void)dtype;
  return false;
#endif
}

}  // namespace svgear
