#include "kernels/cluster_permutation/cluster_permutation.h"

#include <ATen/ATen.h>

namespace svgear {
namespace {

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
  return gather_tokens_reference(x, order);
}

at::Tensor scatter_tokens(const at::Tensor& xp, const at::Tensor& order) {
  check_order(xp, order, "scatter_tokens", "xp");
  return scatter_tokens_reference(xp, order);
}

at::Tensor cluster_means(const at::Tensor& xp, const at::Tensor& offsets) {
  TORCH_CHECK(xp.dim() == 3, "cluster_means: xp must be [BH, N, d], got ", xp.sizes());
  TORCH_CHECK(at::isFloatingType(xp.scalar_type()), "cluster_means: xp must be floating point, got ",
              xp.scalar_type());
  TORCH_CHECK(offsets.dim() == 2 && offsets.size(0) == xp.size(0) && offsets.size(1) >= 2,
              "cluster_means: offsets must be [BH, K+1] with BH = ", xp.size(0), ", K >= 1, got ",
              offsets.sizes());
  TORCH_CHECK(offsets.scalar_type() == at::kLong, "cluster_means: offsets must be int64, got ",
              offsets.scalar_type());
  TORCH_CHECK(offsets.device() == xp.device(), "cluster_means: offsets must be on xp's device ",
              xp.device(), ", got ", offsets.device());
  check_device(xp, "cluster_means");
  return cluster_means_reference(xp, offsets.contiguous());
}

}  // namespace svgear
