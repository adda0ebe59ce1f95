#include <optional>

#include <ATen/ATen.h>

#include "kernels/cluster_permutation/cluster_permutation.h"

namespace svgear {
namespace {

at::Tensor expand_order(const at::Tensor& order, int64_t d) {
  return order.unsqueeze(-1).expand({order.size(0), order.size(1), d});  // [BH, N, d]
}

}  // namespace

ClusterLayout cluster_layout_reference(const at::Tensor& labels, int64_t num_clusters) {
  const int64_t bh = labels.size(0);
  // std::optional spelled out: a plain `true` would pick the sort(self, dim, descending) overload.
  at::Tensor order =
      std::get<1>(at::sort(labels, std::optional<bool>(true), /*dim=*/1, /*descending=*/false));  // [BH, N]
  at::Tensor sizes = at::zeros({bh, num_clusters}, labels.options())
                         .scatter_add_(1, labels, at::ones_like(labels));  // [BH, K]
  at::Tensor offsets = at::cat({at::zeros({bh, 1}, labels.options()), sizes.cumsum(1)}, 1);  // [BH, K+1]
  return {order, offsets};
}

at::Tensor gather_tokens_reference(const at::Tensor& x, const at::Tensor& order) {
  return x.gather(1, expand_order(order, x.size(2)));  // [BH, N, d] permuted
}

at::Tensor scatter_tokens_reference(const at::Tensor& xp, const at::Tensor& order) {
  return at::empty(xp.sizes(), xp.options()).scatter_(1, expand_order(order, xp.size(2)), xp);  // [BH, N, d] original
}

at::Tensor cluster_means_reference(const at::Tensor& xp, const at::Tensor& offsets) {
  const int64_t bh = xp.size(0), n = xp.size(1), d = xp.size(2);
  const int64_t k = offsets.size(1) - 1;
  // Cluster of permuted position r = number of cluster ends <= r (empty clusters end where they
  // start, so they are counted before r's cluster and never contain r).
  at::Tensor ends = offsets.narrow(1, 1, k).contiguous();                              // [BH, K]
  at::Tensor positions = at::arange(n, offsets.options()).unsqueeze(0).expand({bh, n}).contiguous();
  at::Tensor segment = at::searchsorted(ends, positions, /*out_int32=*/false, /*right=*/true);  // [BH, N]
  at::Tensor flat = (segment + at::arange(bh, offsets.options()).mul_(k).unsqueeze(1)).view(-1);
  // Per-segment index_add_ rather than a running cumsum: a float32 prefix sum over N = 32760 tokens
  // loses the late clusters' low bits to cancellation.
  at::Tensor sums = at::zeros({bh * k, d}, xp.options().dtype(at::kFloat))
                        .index_add_(0, flat, xp.reshape({bh * n, d}).to(at::kFloat));  // [BH·K, d]
  at::Tensor sizes = (offsets.narrow(1, 1, k) - offsets.narrow(1, 0, k)).reshape({bh * k, 1});
  return (sums / sizes.clamp_min(1).to(at::kFloat)).view({bh, k, d});  // [BH, K, d]; 0 when empty
}

}  // namespace svgear
