#include "kernels/cluster_permutation/cluster_permutation.h"

#include <optional>

#include <ATen/ATen.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "kernels/cluster_permutation/cluster_permutation_cuda.cuh"
#include "kernels/common/kernel_path.h"
#include "kernels/common/vector_aligned.h"
#endif

namespace svgear {
namespace {

#if SVGEAR_HAVE_CUDA
// Whole-row copies by 16-byte words (cluster_permutation_cuda.cu) for CUDA rows of a multiple of
// 16 bytes; nullopt sends the caller to the reference.
template <bool kScatter>
std::optional<at::Tensor> move_rows_cuda(const at::Tensor& x, const at::Tensor& order) {
  const int64_t row_bytes = x.size(2) * x.element_size();
  if (!cuda_kernels_serve(x.device()) || row_bytes % 16 != 0) return std::nullopt;
  const c10::cuda::CUDAGuard device_guard(x.device());
  // x's rows read where they are (row_aligned); the result contiguous.
  at::Tensor source = row_aligned(x), index = order.contiguous();
  at::Tensor out = at::empty(x.sizes(), x.options());
  const auto launch = kScatter ? launch_scatter_rows : launch_gather_rows;
  const int64_t bytes = x.element_size();
  launch(source.data_ptr(), index.data_ptr<int64_t>(), out.data_ptr(), x.size(0), x.size(1), row_bytes,
         source.stride(0) * bytes, source.stride(1) * bytes, at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

// cluster_means_kernel for bf16 / fp16 rows of whole 16-byte words, a power of two of them up to
// 32; nullopt sends the caller to the reference. `order` defined: x is in token order and read
// through it, and `xp_out` (if not null) receives it in cluster order.
std::optional<at::Tensor> cluster_means_cuda(const at::Tensor& x, const at::Tensor& order, const at::Tensor& offsets,
                                             at::Tensor* xp_out) {
  const at::ScalarType dtype = x.scalar_type();
  const int64_t head_dim = x.size(2);
  const bool words = head_dim >= 8 && head_dim % 8 == 0 && head_dim / 8 <= 32 && 32 % (head_dim / 8) == 0;
  if (!cuda_kernels_serve(x.device()) || (dtype != at::kBFloat16 && dtype != at::kHalf) || !words) return std::nullopt;
  const c10::cuda::CUDAGuard device_guard(x.device());
  at::Tensor rows = row_aligned(x), bounds = offsets.contiguous();  // rows read where they are
  at::Tensor index = order.defined() ? order.contiguous() : order;
  const int64_t clusters = offsets.size(1) - 1;
  at::Tensor means = at::empty({x.size(0), clusters, head_dim}, x.options().dtype(at::kFloat));
  if (xp_out) *xp_out = at::empty(x.sizes(), x.options());
  launch_cluster_means(rows.data_ptr(), index.defined() ? index.data_ptr<int64_t>() : nullptr,
                       bounds.data_ptr<int64_t>(), xp_out ? xp_out->data_ptr() : nullptr,
                       means.data_ptr<float>(), x.size(0), x.size(1), head_dim, rows.stride(0), rows.stride(1), clusters,
                       dtype == at::kBFloat16 ? HalfPrecision::BFloat16 : HalfPrecision::Float16,
                       at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return means;
}
#endif

void check_device(const at::Tensor& t, const char* op) {
  TORCH_CHECK(t.is_cpu() || t.is_cuda(), op, ": unsupported device ", t.device());
}

void check_order(const at::Tensor& x, const at::Tensor& order, const char* op, const char* x_name) {
  TORCH_CHECK(x.dim() == 3, op, ": ", x_name, " must be [BH, N, d], got ", x.sizes());
  TORCH_CHECK(order.dim() == 2 && order.size(0) == x.size(0) && order.size(1) == x.size(1),
              op, ": order must be [BH, N] = [", x.size(0), ", ", x.size(1), "], got ",
              order.sizes());
  TORCH_CHECK(order.scalar_type() == at::kLong, op, ": order must be int64, got ",
              order.scalar_type());
  TORCH_CHECK(order.device() == x.device(), op, ": order must be on ", x_name, "'s device ",
              x.device(), ", got ", order.device());
  check_device(x, op);
}

void check_offsets(const at::Tensor& x, const at::Tensor& offsets, const char* op, const char* x_name) {
  TORCH_CHECK(x.dim() == 3, op, ": ", x_name, " must be [BH, N, d], got ", x.sizes());
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), op, ": ", x_name, " must be floating point, got ",
              x.scalar_type());
  TORCH_CHECK(offsets.dim() == 2 && offsets.size(0) == x.size(0) && offsets.size(1) >= 2,
              op, ": offsets must be [BH, K+1] with BH = ", x.size(0), ", K >= 1, got ", offsets.sizes());
  TORCH_CHECK(offsets.scalar_type() == at::kLong, op, ": offsets must be int64, got ", offsets.scalar_type());
  TORCH_CHECK(offsets.device() == x.device(), op, ": offsets must be on ", x_name, "'s device ", x.device(),
              ", got ", offsets.device());
  check_device(x, op);
}

}  // namespace

ClusterLayout cluster_layout(const at::Tensor& labels, int64_t num_clusters) {
  TORCH_CHECK(labels.dim() == 2, "cluster_layout: labels must be [BH, N], got ", labels.sizes());
  TORCH_CHECK(labels.scalar_type() == at::kLong, "cluster_layout: labels must be int64, got ",
              labels.scalar_type());
  TORCH_CHECK(num_clusters >= 1, "cluster_layout: num_clusters must be >= 1, got ", num_clusters);
  check_device(labels, "cluster_layout");
  return cluster_layout_reference(labels.contiguous(), num_clusters);
}

at::Tensor gather_tokens(const at::Tensor& x, const at::Tensor& order) {
  check_order(x, order, "gather_tokens", "x");
#if SVGEAR_HAVE_CUDA
  if (auto out = move_rows_cuda<false>(x, order)) return *out;
#endif
  return gather_tokens_reference(x, order);
}

at::Tensor scatter_tokens(const at::Tensor& xp, const at::Tensor& order) {
  check_order(xp, order, "scatter_tokens", "xp");
#if SVGEAR_HAVE_CUDA
  if (auto out = move_rows_cuda<true>(xp, order)) return *out;
#endif
  return scatter_tokens_reference(xp, order);
}

at::Tensor cluster_means(const at::Tensor& xp, const at::Tensor& offsets) {
  check_offsets(xp, offsets, "cluster_means", "xp");
#if SVGEAR_HAVE_CUDA
  if (auto means = cluster_means_cuda(xp, at::Tensor(), offsets, nullptr)) return *means;
#endif
  return cluster_means_reference(xp, offsets.contiguous());
}

GatheredMeans gather_tokens_and_means(const at::Tensor& x, const ClusterLayout& layout) {
  check_order(x, layout.order, "gather_tokens_and_means", "x");
  check_offsets(x, layout.offsets, "gather_tokens_and_means", "x");
#if SVGEAR_HAVE_CUDA
  at::Tensor xp;
  if (auto means = cluster_means_cuda(x, layout.order, layout.offsets, &xp)) return {xp, *means};
#endif
  at::Tensor gathered = gather_tokens(x, layout.order);
  return {gathered, cluster_means(gathered, layout.offsets)};
}

}  // namespace svgear
