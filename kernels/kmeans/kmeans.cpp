#include "kernels/kmeans/kmeans.h"

#include <ATen/ATen.h>

namespace svgear {

KMeansResult kmeans(const at::Tensor& x, const at::Tensor& init_centroids, int iterations) {
  TORCH_CHECK(x.dim() == 3, "kmeans: x must be [BH, N, d], got ", x.sizes());
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "kmeans: x must be floating point, got ",
              x.scalar_type());
  TORCH_CHECK(init_centroids.dim() == 3 && init_centroids.size(0) == x.size(0) &&
                  init_centroids.size(2) == x.size(2),
              "kmeans: init_centroids must be [BH, K, d] = [", x.size(0), ", K, ", x.size(2),
              "], got ", init_centroids.sizes());
  TORCH_CHECK(init_centroids.size(1) >= 1, "kmeans: need at least one cluster, got K = 0");
  TORCH_CHECK(init_centroids.scalar_type() == at::kFloat,
              "kmeans: init_centroids must be float32, got ", init_centroids.scalar_type());
  TORCH_CHECK(init_centroids.device() == x.device(), "kmeans: init_centroids must be on x's device ",
              x.device(), ", got ", init_centroids.device());
  TORCH_CHECK(iterations >= 1, "kmeans: iterations must be >= 1, got ", iterations);
  TORCH_CHECK(x.is_cpu() || x.is_cuda(), "kmeans: unsupported device ", x.device());
  // Every device runs the ATen reference until the CUDA kernel lands.
  return kmeans_reference(x.to(at::kFloat).contiguous(), init_centroids.contiguous(), iterations);
}

at::Tensor kmeans_init(const at::Tensor& x, int64_t k, uint64_t seed, KMeansInit method) {
  TORCH_CHECK(x.dim() == 3, "kmeans_init: x must be [BH, N, d], got ", x.sizes());
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "kmeans_init: x must be floating point, got ",
              x.scalar_type());
  TORCH_CHECK(x.size(1) >= 1, "kmeans_init: x must hold at least one token, got ", x.sizes());
  TORCH_CHECK(k >= 1, "kmeans_init: k must be >= 1, got ", k);
  TORCH_CHECK(method == KMeansInit::RandomTokens || method == KMeansInit::KMeansPlusPlus,
              "kmeans_init: method must be RandomTokens or KMeansPlusPlus");
  TORCH_CHECK(x.is_cpu() || x.is_cuda(), "kmeans_init: unsupported device ", x.device());
  return kmeans_init_reference(x.to(at::kFloat).contiguous(), k, seed, method);
}

}  // namespace svgear
