#include "core/attention/dense_backend.h"

#include <algorithm>
#include <array>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include "core/allocation_failure.h"

namespace svgear {
namespace {

// Puts cuDNN first in ATen's SDPA priority order for the guard's lifetime, restoring the caller's
// order after. ATen still runs its own cuDNN support checks (head dim, layout, dtype, cuDNN version)
// and moves on down the order when they fail, so a preference is never a wrong result. The order is
// process-wide: another thread's SDPA call inside the window also prefers cuDNN, equally correct.
class CudnnFirstGuard {
 public:
  CudnnFirstGuard() : saved_(at::globalContext().sDPPriorityOrder()) {
    std::vector<int64_t> order = {int64_t(at::SDPBackend::cudnn_attention)};
    for (at::SDPBackend backend : saved_) {
      if (backend != at::SDPBackend::cudnn_attention) order.push_back(int64_t(backend));
    }
    at::globalContext().setSDPPriorityOrder(order);
  }
  ~CudnnFirstGuard() {
    std::vector<int64_t> order;
    for (at::SDPBackend backend : saved_) order.push_back(int64_t(backend));
    at::globalContext().setSDPPriorityOrder(order);
  }
  CudnnFirstGuard(const CudnnFirstGuard&) = delete;
  CudnnFirstGuard& operator=(const CudnnFirstGuard&) = delete;

 private:
  std::array<at::SDPBackend, at::num_sdp_backends> saved_;
};

}  // namespace

bool DenseBackend::supports(const AttentionConfig& config, at::Device device,
                            std::string* why) const {
  if (config.mode != AttentionMode::Dense) {
    if (why) {
      *why = std::string("the dense backend computes only dense attention, not '") +
             attention_mode_name(config.mode) + "'";
    }
    return false;
  }
  return true;
}

at::Tensor DenseBackend::forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const AttentionCall& call) {
  TORCH_CHECK(q.dim() == 4, "q must be [B, H, N, d], got ", q.sizes());
  TORCH_CHECK(k.dim() == 4 && k.size(0) == q.size(0) && k.size(1) == q.size(1) &&
                  k.size(3) == q.size(3),
              "k must be [B, H, N, d] matching q ", q.sizes(), ", got ", k.sizes());
  TORCH_CHECK(v.dim() == 4 && v.size(0) == k.size(0) && v.size(1) == k.size(1) &&
                  v.size(2) == k.size(2),
              "v must be [B, H, N_k, d_v] matching k ", k.sizes(), ", got ", v.sizes());
  TORCH_CHECK(q.scalar_type() == k.scalar_type() && q.scalar_type() == v.scalar_type(),
              "q, k and v must share a dtype, got ", q.scalar_type(), ", ", k.scalar_type(), ", ",
              v.scalar_type());
  TORCH_CHECK(q.device() == k.device() && q.device() == v.device(),
              "q, k and v must be on one device, got ", q.device(), ", ", k.device(), ", ",
              v.device());

  const bool half_precision = q.scalar_type() == at::kBFloat16 || q.scalar_type() == at::kHalf;
  if (q.is_cuda() && half_precision && !cudnn_failed_) {
    try {
      CudnnFirstGuard guard;
      return at::scaled_dot_product_attention(q, k, v);
    } catch (const c10::Error& e) {
      // The size, not cuDNN (the caching allocator's failure or cuDNN's own): the caller says what
      // to lower, and the next call may fit.
      if (is_gpu_allocation_failure(e)) throw;
      // A cuDNN build or runtime failure (e.g. an unsupported graph); the default order below
      // never chooses cuDNN before flash / memory-efficient attention.
      cudnn_failed_ = true;
    }
  }
  if (q.is_cpu()) return cpu_attention_in_row_chunks(q, k, v, call.cancel);
  return at::scaled_dot_product_attention(q, k, v);
}

at::Tensor cpu_attention_in_row_chunks(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                       const CancelToken* cancel, int64_t scores_per_chunk) {
  const int64_t rows = q.size(2);
  const int64_t scores_per_row = std::max<int64_t>(q.size(0) * q.size(1) * k.size(2), 1);
  const int64_t chunk = std::max<int64_t>(kCpuChunkRowMultiple, scores_per_chunk / scores_per_row /
                                                                    kCpuChunkRowMultiple * kCpuChunkRowMultiple);
  if (chunk >= rows) {
    if (cancel) cancel->throw_if_cancelled();
    return at::scaled_dot_product_attention(q, k, v);
  }
  at::Tensor out = at::empty({q.size(0), q.size(1), rows, v.size(3)}, q.options());
  for (int64_t start = 0; start < rows; start += chunk) {
    if (cancel) cancel->throw_if_cancelled();
    const int64_t length = std::min(chunk, rows - start);
    out.narrow(2, start, length).copy_(at::scaled_dot_product_attention(q.narrow(2, start, length), k, v));
  }
  return out;
}

}  // namespace svgear
