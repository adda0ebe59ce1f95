#include "kernels/block_sparse_attention/block_sparse_attention.h"

#include <array>

#include <ATen/ATen.h>

namespace svgear {
namespace {

void check_device(const at::Tensor& tensor, const char* name, const at::Tensor& qp) {
  TORCH_CHECK(tensor.device() == qp.device(), name, " must be on ", qp.device(), " like qp, got ",
              tensor.device());
}

void check_offsets(const at::Tensor& offsets, const char* name, int64_t bh, int64_t clusters) {
  TORCH_CHECK(offsets.dim() == 2 && offsets.size(0) == bh && offsets.size(1) == clusters + 1, name,
              " must be [BH, clusters+1] = [", bh, ", ", clusters + 1, "], got ", offsets.sizes());
  TORCH_CHECK(offsets.scalar_type() == at::kLong, name, " must be int64, got ", offsets.scalar_type());
}

}  // namespace

at::Tensor block_sparse_attention(const at::Tensor& qp, const at::Tensor& kp, const at::Tensor& vp,
                                  const at::Tensor& q_offsets, const at::Tensor& k_offsets,
                                  const at::Tensor& block_mask, double scale,
                                  const CentroidCompensation* compensation) {
  TORCH_CHECK(qp.dim() == 3, "qp must be [BH, Nq, d], got ", qp.sizes());
  const int64_t bh = qp.size(0);
  const int64_t head_dim = qp.size(2);
  TORCH_CHECK(kp.dim() == 3 && kp.size(0) == bh && kp.size(1) >= 1 && kp.size(2) == head_dim,
              "kp must be [BH, Nk, d] = [", bh, ", Nk >= 1, ", head_dim, "], got ", kp.sizes());
  TORCH_CHECK(vp.sizes() == kp.sizes(), "vp must be [BH, Nk, d] = ", kp.sizes(), ", got ", vp.sizes());
  for (const at::Tensor* tensor : {&qp, &kp, &vp}) {
    TORCH_CHECK(at::isFloatingType(tensor->scalar_type()), "qp, kp and vp must be floating point, got ",
                tensor->scalar_type());
  }
  TORCH_CHECK(block_mask.dim() == 3 && block_mask.size(0) == bh && block_mask.size(2) >= 1,
              "block_mask must be [BH, Qc, Kc] with BH = ", bh, " and Kc >= 1, got ", block_mask.sizes());
  TORCH_CHECK(block_mask.scalar_type() == at::kBool, "block_mask must be bool, got ", block_mask.scalar_type());
  const int64_t query_clusters = block_mask.size(1);
  const int64_t key_clusters = block_mask.size(2);
  check_offsets(q_offsets, "q_offsets", bh, query_clusters);
  check_offsets(k_offsets, "k_offsets", bh, key_clusters);
  check_device(kp, "kp", qp);
  check_device(vp, "vp", qp);
  check_device(q_offsets, "q_offsets", qp);
  check_device(k_offsets, "k_offsets", qp);
  check_device(block_mask, "block_mask", qp);
  if (compensation != nullptr) {
    const std::array<int64_t, 3> centroid_dims{bh, key_clusters, head_dim};
    const at::IntArrayRef centroid_shape(centroid_dims);
    TORCH_CHECK(compensation->k_centroids.sizes() == centroid_shape, "compensation->k_centroids must be [BH, Kc, d] = ",
                centroid_shape, ", got ", compensation->k_centroids.sizes());
    TORCH_CHECK(compensation->v_means.sizes() == centroid_shape, "compensation->v_means must be [BH, Kc, d] = ",
                centroid_shape, ", got ", compensation->v_means.sizes());
    TORCH_CHECK(at::isFloatingType(compensation->k_centroids.scalar_type()) &&
                    at::isFloatingType(compensation->v_means.scalar_type()),
                "compensation->k_centroids and v_means must be floating point, got ",
                compensation->k_centroids.scalar_type(), " and ", compensation->v_means.scalar_type());
    TORCH_CHECK(compensation->k_sizes.dim() == 2 && compensation->k_sizes.size(0) == bh &&
                    compensation->k_sizes.size(1) == key_clusters,
                "compensation->k_sizes must be [BH, Kc] = [", bh, ", ", key_clusters, "], got ",
                compensation->k_sizes.sizes());
    TORCH_CHECK(compensation->k_sizes.scalar_type() == at::kLong, "compensation->k_sizes must be int64, got ",
                compensation->k_sizes.scalar_type());
    check_device(compensation->k_centroids, "compensation->k_centroids", qp);
    check_device(compensation->v_means, "compensation->v_means", qp);
    check_device(compensation->k_sizes, "compensation->k_sizes", qp);
  }
  return block_sparse_attention_reference(qp, kp, vp, q_offsets, k_offsets, block_mask, scale, compensation);
}

}  // namespace svgear
