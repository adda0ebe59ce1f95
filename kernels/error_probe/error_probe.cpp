#include "kernels/error_probe/error_probe.h"

#include <utility>

#include <ATen/ATen.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "kernels/common/kernel_path.h"
#include "kernels/common/side_stream.h"
#include "kernels/common/vector_aligned.h"
#include "kernels/error_probe/error_probe_cuda.cuh"
#endif

namespace svgear {
namespace {

#if SVGEAR_HAVE_CUDA
bool kernel_handles(const at::Tensor& kp, const at::Tensor& v, int64_t q_clusters) {
  const at::ScalarType dtype = kp.scalar_type();
  return cuda_kernels_serve(kp.device()) && (dtype == at::kBFloat16 || dtype == at::kHalf) &&
         v.scalar_type() == dtype && error_probe_cuda_supports(kp.size(2), kp.size(1), q_clusters) &&
         kp.size(0) <= 65535;
}

ProbeResult error_probe_cuda(const at::Tensor& q_centroids, const at::Tensor& k_centroids, const at::Tensor& kp,
                             const at::Tensor& v, const ClusterLayout& k_layout, const at::Tensor& q_sizes,
                             double scale, double gamma) {
  const c10::cuda::CUDAGuard device_guard(kp.device());
  const at::ScalarType dtype = kp.scalar_type();
  const int64_t bh = kp.size(0), tokens = kp.size(1), head_dim = kp.size(2), key_clusters = k_centroids.size(1);
  // The centroid logits and q̄'s two 16-bit terms are computed on a side stream beside V's gather
  // and its statistics (their ~45 µs of small ATen launches sat before them on the call's path at
  // Wan-1.3B 480p). The tensors the probe reads from it are made here, on the current stream, which
  // joins the side stream before the probe reads them (side_stream.h); its temporaries are its own.
  at::Tensor logits = at::empty({bh, q_centroids.size(1), key_clusters}, q_centroids.options());  // [BH, Qc, Kc]
  at::Tensor q_hi = at::empty(q_centroids.sizes(), q_centroids.options().dtype(dtype));
  at::Tensor q_lo = at::empty_like(q_hi);
  at::Tensor keys = vector_aligned(kp), values = row_aligned(v);  // read as 16-byte words
  at::Tensor order = k_layout.order.contiguous(), offsets = k_layout.offsets.contiguous();
  at::Tensor sizes = q_sizes.contiguous();
  at::Tensor vp = at::empty(kp.sizes(), kp.options());
  at::Tensor v_means = at::empty({bh, key_clusters, head_dim}, k_centroids.options());
  at::Tensor log_error = at::empty_like(logits), score = at::empty_like(logits);
  at::Tensor workspace = at::empty({error_probe_cuda_workspace_bytes(bh, tokens, key_clusters)},
                                   kp.options().dtype(at::kByte));
  ErrorProbeCudaArgs args;
  args.q_hi = q_hi.data_ptr();
  args.q_lo = q_lo.data_ptr();
  args.kp = keys.data_ptr();
  args.v = values.data_ptr();
  args.k_order = order.data_ptr<int64_t>();
  args.vp = vp.data_ptr();
  args.v_means = v_means.data_ptr<float>();
  args.logits = logits.data_ptr<float>();
  args.k_offsets = offsets.data_ptr<int64_t>();
  args.q_sizes = sizes.data_ptr<int64_t>();
  args.log_error = log_error.data_ptr<float>();
  args.score = score.data_ptr<float>();
  args.workspace = workspace.data_ptr();
  args.bh = bh;
  args.tokens = tokens;
  args.head_dim = head_dim;
  args.q_clusters = q_centroids.size(1);
  args.k_clusters = key_clusters;
  args.v_head = values.stride(0);
  args.v_row = values.stride(1);
  args.scale = static_cast<float>(scale);
  args.gamma = static_cast<float>(gamma);
  args.element = dtype == at::kBFloat16 ? HalfPrecision::BFloat16 : HalfPrecision::Float16;
  const c10::cuda::CUDAStream current = at::cuda::getCurrentCUDAStream();
  {
    SideStreamFork fork(current);
    launch_value_gather(args, current);
    {
      const c10::cuda::CUDAStreamGuard on_side(fork.side());
      // ℓ = s·q̄·k̄ᵀ as centroid_logits_reference, with the scale as the product's alpha (beta = 0
      // ignores the uninitialised logits): rounded once, where the reference's multiply rounds
      // again, so the two can differ in the last bit.
      logits.baddbmm_(q_centroids, k_centroids.transpose(1, 2), /*beta=*/0, /*alpha=*/scale);
      // q̄ = hi + lo in two 16-bit terms: the tensor cores then see q̄ to ~16 significant bits.
      q_hi.copy_(q_centroids);
      q_lo.copy_(q_centroids - q_hi.to(at::kFloat));
    }
    fork.join();
  }
  launch_error_probe(args, current);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return ProbeResult{logits, log_error, score, vp, v_means};
}
#endif

void check_centroids(const at::Tensor& q_centroids, const at::Tensor& k_centroids) {
  TORCH_CHECK(q_centroids.dim() == 3, "q_centroids must be [BH, Qc, d], got ", q_centroids.sizes());
  TORCH_CHECK(k_centroids.dim() == 3 && k_centroids.size(0) == q_centroids.size(0) &&
                  k_centroids.size(2) == q_centroids.size(2),
              "k_centroids must be [BH, Kc, d] = [", q_centroids.size(0), ", Kc, ", q_centroids.size(2),
              "], got ", k_centroids.sizes());
  TORCH_CHECK(q_centroids.scalar_type() == at::kFloat && k_centroids.scalar_type() == at::kFloat,
              "q_centroids and k_centroids must be float32, got ", q_centroids.scalar_type(), " and ",
              k_centroids.scalar_type());
  TORCH_CHECK(k_centroids.device() == q_centroids.device(), "k_centroids must be on ", q_centroids.device(),
              ", got ", k_centroids.device());
}

}  // namespace

at::Tensor centroid_logits(const at::Tensor& q_centroids, const at::Tensor& k_centroids, double scale) {
  check_centroids(q_centroids, k_centroids);
  return centroid_logits_reference(q_centroids, k_centroids, scale);
}

ProbeResult error_probe(const at::Tensor& q_centroids, const at::Tensor& k_centroids, const at::Tensor& kp,
                        const at::Tensor& v, const ClusterLayout& k_layout, const at::Tensor& q_sizes, double scale,
                        double gamma) {
  check_centroids(q_centroids, k_centroids);
  const int64_t bh = q_centroids.size(0);
  const int64_t query_clusters = q_centroids.size(1);
  const int64_t key_clusters = k_centroids.size(1);
  const int64_t head_dim = q_centroids.size(2);
  const at::Tensor& k_order = k_layout.order;
  const at::Tensor& k_offsets = k_layout.offsets;
  TORCH_CHECK(key_clusters >= 1, "k_centroids needs at least one key cluster, got ", k_centroids.sizes());
  TORCH_CHECK(kp.dim() == 3 && kp.size(0) == bh && kp.size(2) == head_dim, "kp must be [BH, N, d] = [", bh,
              ", N, ", head_dim, "], got ", kp.sizes());
  TORCH_CHECK(v.sizes() == kp.sizes(), "v must be [BH, N, d] = ", kp.sizes(), ", got ", v.sizes());
  TORCH_CHECK(at::isFloatingType(kp.scalar_type()) && v.scalar_type() == kp.scalar_type(),
              "kp and v must be floating point of one dtype, got ", kp.scalar_type(), " and ", v.scalar_type());
  TORCH_CHECK(k_order.dim() == 2 && k_order.size(0) == bh && k_order.size(1) == kp.size(1),
              "k_layout.order must be [BH, N] = [", bh, ", ", kp.size(1), "], got ", k_order.sizes());
  TORCH_CHECK(k_order.scalar_type() == at::kLong, "k_layout.order must be int64, got ", k_order.scalar_type());
  TORCH_CHECK(k_offsets.dim() == 2 && k_offsets.size(0) == bh && k_offsets.size(1) == key_clusters + 1,
              "k_layout.offsets must be [BH, Kc+1] = [", bh, ", ", key_clusters + 1, "], got ", k_offsets.sizes());
  TORCH_CHECK(k_offsets.scalar_type() == at::kLong, "k_layout.offsets must be int64, got ", k_offsets.scalar_type());
  TORCH_CHECK(q_sizes.dim() == 2 && q_sizes.size(0) == bh && q_sizes.size(1) == query_clusters,
              "q_sizes must be [BH, Qc] = [", bh, ", ", query_clusters, "], got ", q_sizes.sizes());
  TORCH_CHECK(q_sizes.scalar_type() == at::kLong, "q_sizes must be int64, got ", q_sizes.scalar_type());
  for (const auto& [tensor, name] :
       {std::pair{&kp, "kp"}, std::pair{&v, "v"}, std::pair{&k_order, "k_layout.order"},
        std::pair{&k_offsets, "k_layout.offsets"}, std::pair{&q_sizes, "q_sizes"}}) {
    TORCH_CHECK(tensor->device() == q_centroids.device(), name, " must be on ", q_centroids.device(), ", got ",
                tensor->device());
  }
#if SVGEAR_HAVE_CUDA
  if (kernel_handles(kp, v, q_centroids.size(1))) {
    return error_probe_cuda(q_centroids, k_centroids, kp, v, k_layout, q_sizes, scale, gamma);
  }
#endif
  GatheredMeans values = gather_tokens_and_means(v, k_layout);
  ProbeResult result = error_probe_reference(q_centroids, k_centroids, kp, values.xp, k_offsets, q_sizes,
                                             values.means, scale, gamma);
  result.vp = values.xp;
  result.v_means = values.means;
  return result;
}

}  // namespace svgear
