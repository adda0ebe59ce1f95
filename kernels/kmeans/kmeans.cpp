#include "kernels/kmeans/kmeans.h"

#include <ATen/ATen.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "kernels/common/kernel_path.h"
#include "kernels/common/side_stream.h"
#include "kernels/common/vector_aligned.h"
#include "kernels/kmeans/kmeans_cuda.cuh"
#endif

namespace svgear {
namespace {

#if SVGEAR_HAVE_CUDA
bool kernel_handles(const at::Tensor& x, int64_t clusters) {
  const at::ScalarType dtype = x.scalar_type();
  return cuda_kernels_serve(x.device()) && (dtype == at::kBFloat16 || dtype == at::kHalf) &&
         kmeans_cuda_supports(x.size(0), x.size(1), x.size(2), clusters);
}

// The result's tensors, allocated on the current stream.
KMeansResult allocate_result(const at::Tensor& x, int64_t clusters, KMeansPoints points) {
  const int64_t bh = x.size(0), tokens = x.size(1);
  const at::TensorOptions longs = x.options().dtype(at::kLong);
  return {at::empty({bh, tokens}, longs), at::empty({bh, clusters, x.size(2)}, x.options().dtype(at::kFloat)),
          at::empty({bh, clusters}, longs),
          ClusterLayout{at::empty({bh, tokens}, longs), at::empty({bh, clusters + 1}, longs)},
          points == KMeansPoints::InClusterOrder ? at::empty(x.sizes(), x.options()) : at::Tensor()};
}

// k-means of x into `result` (allocate_result), on the current stream, which also owns the
// temporaries (x's aligned copy, the workspace).
void kmeans_cuda_into(KMeansResult& result, const at::Tensor& x, const at::Tensor& init_centroids, int iterations) {
  const c10::cuda::CUDAGuard device_guard(x.device());
  const int64_t bh = x.size(0), tokens = x.size(1), head_dim = x.size(2), clusters = init_centroids.size(1);
  at::Tensor xc = vector_aligned(x);
  result.centroids.copy_(init_centroids);  // updated in place
  at::Tensor workspace = at::empty({kmeans_cuda_workspace_bytes(bh, tokens, head_dim, clusters)},
                                   x.options().dtype(at::kByte));
  KMeansCudaArgs args;
  args.x = xc.data_ptr();
  args.centroids = result.centroids.data_ptr<float>();
  args.labels = result.labels.data_ptr<int64_t>();
  args.sizes = result.sizes.data_ptr<int64_t>();
  args.order = result.layout.order.data_ptr<int64_t>();
  args.offsets = result.layout.offsets.data_ptr<int64_t>();
  args.points = result.points.defined() ? result.points.data_ptr() : nullptr;
  args.workspace = workspace.data_ptr();
  args.bh = bh;
  args.tokens = tokens;
  args.head_dim = head_dim;
  args.clusters = clusters;
  args.iterations = iterations;
  args.element = x.scalar_type() == at::kBFloat16 ? HalfPrecision::BFloat16 : HalfPrecision::Float16;
  args.allow_wgmma = kernel_path() == KernelPath::Fastest;
  launch_kmeans(args, at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

KMeansResult kmeans_cuda(const at::Tensor& x, const at::Tensor& init_centroids, int iterations,
                         KMeansPoints points) {
  KMeansResult result = allocate_result(x, init_centroids.size(1), points);
  kmeans_cuda_into(result, x, init_centroids, iterations);
  return result;
}
#endif

void check_kmeans_args(const at::Tensor& x, const at::Tensor& init_centroids, int iterations) {
  TORCH_CHECK(x.dim() == 3, "kmeans: x must be [BH, N, d], got ", x.sizes());
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "kmeans: x must be floating point, got ",
              x.scalar_type());
  TORCH_CHECK(init_centroids.dim() == 3 && init_centroids.size(0) == x.size(0) &&
                  init_centroids.size(2) == x.size(2),
              "kmeans: init_centroids must be [BH, K, d] = [", x.size(0), ", K, ", x.size(2),
              "], got ", init_centroids.sizes());
  TORCH_CHECK(x.size(1) >= 1, "kmeans: x needs at least one token, got ", x.sizes());
  TORCH_CHECK(init_centroids.size(1) >= 1, "kmeans: need at least one cluster, got K = 0");
  TORCH_CHECK(init_centroids.scalar_type() == at::kFloat,
              "kmeans: init_centroids must be float32, got ", init_centroids.scalar_type());
  TORCH_CHECK(init_centroids.device() == x.device(), "kmeans: init_centroids must be on x's device ",
              x.device(), ", got ", init_centroids.device());
  TORCH_CHECK(iterations >= 1, "kmeans: iterations must be >= 1, got ", iterations);
  TORCH_CHECK(x.is_cpu() || x.is_cuda(), "kmeans: unsupported device ", x.device());
}

// k-means on checked arguments: the CUDA kernels where they handle x, else the reference.
KMeansResult run_kmeans(const at::Tensor& x, const at::Tensor& init_centroids, int iterations,
                        KMeansPoints points, const BetweenIterations& between) {
#if SVGEAR_HAVE_CUDA
  if (kernel_handles(x, init_centroids.size(1))) return kmeans_cuda(x, init_centroids, iterations, points);
#endif
  KMeansResult result =
      kmeans_reference(x.to(at::kFloat).contiguous(), init_centroids.contiguous(), iterations, between);
  if (points == KMeansPoints::InClusterOrder) result.points = gather_tokens(x, result.layout.order);
  return result;
}

}  // namespace

KMeansResult kmeans(const at::Tensor& x, const at::Tensor& init_centroids, int iterations, KMeansPoints points,
                    const BetweenIterations& between) {
  check_kmeans_args(x, init_centroids, iterations);
  return run_kmeans(x, init_centroids, iterations, points, between);
}

KMeansPair kmeans_pair(const at::Tensor& x_first, const at::Tensor& init_first, const at::Tensor& x_second,
                       const at::Tensor& init_second, int iterations, KMeansPoints points,
                       const BetweenIterations& between) {
  check_kmeans_args(x_first, init_first, iterations);
  check_kmeans_args(x_second, init_second, iterations);
#if SVGEAR_HAVE_CUDA
  if (kernel_handles(x_first, init_first.size(1)) && kernel_handles(x_second, init_second.size(1)) &&
      x_first.device() == x_second.device()) {
    c10::cuda::CUDAGuard device_guard(x_first.device());
    SideStreamFork fork(at::cuda::getCurrentCUDAStream());
    // The first problem's result is allocated on the current stream, where the caller reads and
    // frees it, so the caching allocator never gives those blocks to other work early; only its
    // temporaries are allocated on the side stream, and only the side stream ever touches them.
    KMeansPair pair{allocate_result(x_first, init_first.size(1), points), {}};
    {
      c10::cuda::CUDAStreamGuard on_side(fork.side());
      kmeans_cuda_into(pair.first, x_first, init_first, iterations);
    }
    pair.second = kmeans_cuda(x_second, init_second, iterations, points);
    fork.join();
    return pair;
  }
#endif
  return {run_kmeans(x_first, init_first, iterations, points, between),
          run_kmeans(x_second, init_second, iterations, points, between)};
}

at::Tensor kmeans_init(const at::Tensor& x, int64_t k, uint64_t seed, KMeansInit method) {
  TORCH_CHECK(x.dim() == 3, "kmeans_init: x must be [BH, N, d], got ", x.sizes());
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "kmeans_init: x must be floating point, got ",
              x.scalar_type());
  TORCH_CHECK(x.size(1) >= 1, "kmeans_init: x must hold at least one token, got ", x.sizes());
  TORCH_CHECK(k >= 1, "kmeans_init: k must be >= 1, got ", k);
  TORCH_CHECK(method == KMeansInit::RandomTokens || method == KMeansInit::KMeansPlusPlus ||
                  method == KMeansInit::KMeansPlusPlusRounds,
              "kmeans_init: method must be RandomTokens, KMeansPlusPlus or KMeansPlusPlusRounds");
  TORCH_CHECK(x.is_cpu() || x.is_cuda(), "kmeans_init: unsupported device ", x.device());
  return kmeans_init_reference(x.to(at::kFloat).contiguous(), k, seed, method);
}

}  // namespace svgear
