#include "kernels/block_sparse_attention/block_sparse_attention.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>

#include <ATen/ATen.h>
#include <ATen/MemoryOverlap.h>

#include "svgear/build_config.h"

#if SVGEAR_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "kernels/block_sparse_attention/block_sparse_attention_cuda.cuh"
#include "kernels/common/side_stream.h"
#include "kernels/common/vector_aligned.h"
#endif

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

// On the CPU the offsets are read where they lie, so they are checked (a GPU check would cost a
// host sync): each head's run from 0 to the row count without going back.
void check_offsets_cover(const at::Tensor& offsets, const char* name, int64_t rows) {
  const at::Tensor off = offsets.contiguous();
  const int64_t heads = off.size(0), bounds = off.size(1);
  const int64_t* data = off.data_ptr<int64_t>();
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t* o = data + h * bounds;
    bool ok = o[0] == 0 && o[bounds - 1] == rows;
    for (int64_t c = 0; ok && c + 1 < bounds; ++c) ok = o[c] <= o[c + 1];
    TORCH_CHECK(ok, name, " of head ", h, " must rise from 0 to ", rows, " without going back, got ",
                off[h].slice(0, 0, std::min<int64_t>(bounds, 8)), bounds > 8 ? " …" : "");
  }
}

void validate(const at::Tensor& qp, const at::Tensor& kp, const at::Tensor& vp, const at::Tensor& q_offsets,
              const at::Tensor& k_offsets, const at::Tensor& block_mask,
              const CentroidCompensation* compensation, const at::Tensor& out_order) {
  TORCH_CHECK(qp.dim() == 3 && qp.size(2) >= 1, "qp must be [BH, Nq, d] with d >= 1, got ", qp.sizes());
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
  TORCH_CHECK(query_clusters >= 1 || qp.size(1) == 0, "block_mask must have a query cluster for the ", qp.size(1),
              " query rows, got ", block_mask.sizes());
  check_offsets(q_offsets, "q_offsets", bh, query_clusters);
  check_offsets(k_offsets, "k_offsets", bh, key_clusters);
  check_device(kp, "kp", qp);
  check_device(vp, "vp", qp);
  check_device(q_offsets, "q_offsets", qp);
  check_device(k_offsets, "k_offsets", qp);
  check_device(block_mask, "block_mask", qp);
  if (qp.is_cpu()) {
    check_offsets_cover(q_offsets, "q_offsets", qp.size(1));
    check_offsets_cover(k_offsets, "k_offsets", kp.size(1));
  }
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
  if (out_order.defined()) {
    TORCH_CHECK(out_order.dim() == 2 && out_order.size(0) == bh && out_order.size(1) == qp.size(1),
                "out_order must be [BH, Nq] = [", bh, ", ", qp.size(1), "], got ", out_order.sizes());
    TORCH_CHECK(out_order.scalar_type() == at::kLong, "out_order must be int64, got ", out_order.scalar_type());
    check_device(out_order, "out_order", qp);
  }
}

#if SVGEAR_HAVE_CUDA
// The fused kernel's cases (block_sparse_attention.h); everything else takes the reference.
bool kernel_handles(const at::Tensor& qp, const at::Tensor& kp, const at::Tensor& vp,
                    const at::Tensor& block_mask) {
  const at::ScalarType dtype = qp.scalar_type();
  return cuda_kernels_serve(qp.device()) && (dtype == at::kBFloat16 || dtype == at::kHalf) && kp.scalar_type() == dtype &&
         vp.scalar_type() == dtype && block_sparse_attention_cuda_supports(qp.size(2), block_mask.size(2)) &&
         qp.size(0) <= 65535 && qp.size(1) < (int64_t(1) << 31) &&  // the query tiles' 32-bit rows
         kp.size(1) < (int64_t(1) << 30);  // a head's key rows and virtual keys counted in int
}

void run_kernel(at::Tensor& out, const at::Tensor& qp, const at::Tensor& kp, const at::Tensor& vp,
                const at::Tensor& q_offsets, const at::Tensor& k_offsets, const at::Tensor& block_mask,
                double scale, const CentroidCompensation* compensation, const at::Tensor& out_order) {
  const int64_t bh = qp.size(0), query_clusters = block_mask.size(1);
  // No-ops for the engine's tensors (contiguous, from the allocator); the kernels read rows as 16-byte
  // words, so a slice starting anywhere else is copied. The casts copy only the small k̄ / v̄.
  at::Tensor q = vector_aligned(qp), k = vector_aligned(kp), v = vector_aligned(vp);
  at::Tensor q_off = q_offsets.contiguous(), k_off = k_offsets.contiguous(), mask = block_mask.contiguous();
  at::Tensor order = out_order.defined() ? out_order.contiguous() : at::Tensor();
  at::Tensor workspace = at::empty({block_sparse_attention_workspace_bytes(bh, qp.size(1), query_clusters)},
                                   qp.options().dtype(at::kByte));
  at::Tensor kbar, vbar, sizes;
  BlockSparseAttentionArgs args;
  if (compensation != nullptr) {
    kbar = vector_aligned(compensation->k_centroids.to(qp.scalar_type()));
    vbar = vector_aligned(compensation->v_means.to(qp.scalar_type()));
    sizes = compensation->k_sizes.contiguous();
    args.k_centroids = kbar.data_ptr();
    args.v_means = vbar.data_ptr();
    args.k_sizes = sizes.data_ptr<int64_t>();
  }
  args.qp = q.data_ptr();
  args.kp = k.data_ptr();
  args.vp = v.data_ptr();
  args.q_offsets = q_off.data_ptr<int64_t>();
  args.k_offsets = k_off.data_ptr<int64_t>();
  args.block_mask = mask.data_ptr<bool>();
  args.out_order = order.defined() ? order.data_ptr<int64_t>() : nullptr;
  args.out = out.data_ptr();
  args.out_head_stride = out.stride(0);
  args.out_row_stride = out.stride(1);
  args.workspace = workspace.data_ptr();
  args.bh = bh;
  args.q_rows = q.size(1);
  args.k_rows = k.size(1);
  args.head_dim = q.size(2);
  args.q_clusters = query_clusters;
  args.k_clusters = block_mask.size(2);
  args.scale = static_cast<float>(scale);
  args.element = qp.scalar_type() == at::kBFloat16 ? HalfPrecision::BFloat16 : HalfPrecision::Float16;
  args.allow_wgmma = kernel_path() == KernelPath::Fastest;
  // The wgmma kernel's tail tiles run beside its 128-row tiles, on the side stream, so that they
  // fill the SMs the other launch's last wave leaves idle; the fork comes after the list of query
  // tiles, which both launches read. Every tensor the tails read was made on the current stream, which
  // waits for them (the join, before the launch check can throw) before anything after this op, so
  // the caching allocator cannot hand their blocks to later work early.
  const c10::cuda::CUDAStream current = at::cuda::getCurrentCUDAStream();
  launch_block_sparse_attention_tiles(args, current);
  std::optional<SideStreamFork> fork;
  if (block_sparse_attention_launches_tails(args)) fork.emplace(current);
  launch_block_sparse_attention(args, current, fork ? fork->side() : current);
  if (fork) fork->join();
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}
#endif

}  // namespace

const char* block_sparse_kernel_name(const at::Device& device, at::ScalarType dtype, int64_t head_dim,
                                     int64_t k_clusters) {
#if SVGEAR_HAVE_CUDA
  // Which kernels fit (shared memory, sm_90a code) is the named device's question, not the current one's.
  c10::cuda::OptionalCUDAGuard device_guard;
  if (device.is_cuda() && device.has_index()) device_guard.set_device(device);
  if (cuda_kernels_serve(device) && (dtype == at::kBFloat16 || dtype == at::kHalf) &&
      block_sparse_attention_cuda_supports(head_dim, k_clusters)) {
    return kernel_path() == KernelPath::Fastest && block_sparse_attention_sm90_runs_here() ? "wgmma (sm_90a)"
                                                                                          : "mma.sync (sm_80)";
  }
#endif
  (void)dtype, (void)head_dim, (void)k_clusters;
  return device.is_cpu() ? "CPU gather" : "ATen reference";
}

at::Tensor block_sparse_attention(const at::Tensor& qp, const at::Tensor& kp, const at::Tensor& vp,
                                  const at::Tensor& q_offsets, const at::Tensor& k_offsets,
                                  const at::Tensor& block_mask, double scale,
                                  const CentroidCompensation* compensation, const at::Tensor& out_order) {
  TORCH_CHECK(qp.dim() == 3, "qp must be [BH, Nq, d], got ", qp.sizes());
  at::Tensor out = at::empty(qp.sizes(), qp.options().memory_format(at::MemoryFormat::Contiguous));
  block_sparse_attention_out(out, qp, kp, vp, q_offsets, k_offsets, block_mask, scale, compensation, out_order);
  return out;
}

void block_sparse_attention_out(at::Tensor& out, const at::Tensor& qp, const at::Tensor& kp,
                                const at::Tensor& vp, const at::Tensor& q_offsets, const at::Tensor& k_offsets,
                                const at::Tensor& block_mask, double scale,
                                const CentroidCompensation* compensation, const at::Tensor& out_order) {
  validate(qp, kp, vp, q_offsets, k_offsets, block_mask, compensation, out_order);
  TORCH_CHECK(out.sizes() == qp.sizes() && out.scalar_type() == qp.scalar_type() && out.device() == qp.device() &&
                  (out.size(2) <= 1 || out.stride(2) == 1),
              "out must be a ", qp.scalar_type(), " tensor of shape ", qp.sizes(), " on ", qp.device(),
              " with contiguous rows, got ", out.scalar_type(), " ", out.sizes(), " with strides ", out.strides(), " on ",
              out.device());
  at::assert_no_internal_overlap(out);  // an expanded view would have the kernels race on its rows
  // The kernels write rows while other CTAs still read the inputs; the reference reads them first.
  for (const at::Tensor* input : {&qp, &kp, &vp}) at::assert_no_overlap(out, *input);
  if (compensation != nullptr) {
    at::assert_no_overlap(out, compensation->k_centroids);
    at::assert_no_overlap(out, compensation->v_means);
  }
  // The kernels take each tile's running maximum on unscaled scores: a negative scale would pick the
  // minimum instead.
  TORCH_CHECK(std::isfinite(scale) && scale > 0.0, "scale must be positive and finite, got ", scale);
#if SVGEAR_HAVE_CUDA
  // Before kernel_handles: which kernels fit is the tensors' device's question.
  c10::cuda::OptionalCUDAGuard device_guard;
  if (qp.is_cuda()) device_guard.set_device(qp.device());
  if (kernel_handles(qp, kp, vp, block_mask)) {
    // The kernels store pairs of elements: rows in place where they keep 4-byte alignment (a
    // dimension of size one never moves the address).
    const bool in_place = (out.size(0) == 1 || out.stride(0) % 2 == 0) && (out.size(1) == 1 || out.stride(1) % 2 == 0) &&
                          reinterpret_cast<uintptr_t>(out.data_ptr()) % 4 == 0;
    at::Tensor rows = in_place ? out : at::empty(out.sizes(), out.options());
    run_kernel(rows, qp, kp, vp, q_offsets, k_offsets, block_mask, scale, compensation, out_order);
    if (!in_place) out.copy_(rows);
    return;
  }
#endif
  at::Tensor result = qp.is_cpu()
                          ? block_sparse_attention_cpu(qp, kp, vp, q_offsets, k_offsets, block_mask, scale, compensation)
                          : block_sparse_attention_reference(qp, kp, vp, q_offsets, k_offsets, block_mask, scale,
                                                             compensation);  // [BH, Nq, d] permuted order
  if (out_order.defined()) {
    out.scatter_(1, out_order.unsqueeze(-1).expand_as(result), result);
  } else {
    out.copy_(result);
  }
}

}  // namespace svgear
