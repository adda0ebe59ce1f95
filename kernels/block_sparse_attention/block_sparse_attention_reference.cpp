#include <algorithm>
#include <limits>

#include <ATen/ATen.h>

#include "kernels/block_sparse_attention/block_sparse_attention.h"

namespace svgear {
namespace {

// Each [BH, rows, Nk + Kc] temporary holds at most this many elements (256 MB in fp32): the reference
// masks dense logits, so it walks the query rows in chunks rather than materialising N × N.
constexpr int64_t kMaxChunkElements = int64_t{1} << 26;

// The cluster of every permuted row: the c with offsets[c] <= r < offsets[c+1]. Empty clusters
// (equal offsets) own no row.
at::Tensor row_clusters(const at::Tensor& offsets, int64_t rows) {
  at::Tensor ends = offsets.slice(1, 1).contiguous();  // [BH, C]
  at::Tensor positions = at::arange(rows, offsets.options()).expand({offsets.size(0), rows}).contiguous();  // [BH, N]
  return at::searchsorted(ends, positions, /*out_int32=*/false, /*right=*/true);  // [BH, N]
}

}  // namespace

// One softmax per query row over [keys of its routed clusters ∪ virtual keys of its skipped non-empty
// clusters]. This equals the spec's two-pass merge (§3.2: sparse output o_f and its LSE, then an
// online-softmax continuation over the centroids starting from m = lse_f, l = 1, acc = o_f): both
// compute Σ w·v / Σ w over the same union, and with a single softmax there is no base-2 LSE to convert
// (pitfall P7). Deviation: the virtual-key bias is log(n_j), not log(n_j + 1e-6), and empty clusters are
// left out explicitly rather than weighted by 1e-6 (pitfall P9).
at::Tensor block_sparse_attention_reference(const at::Tensor& qp, const at::Tensor& kp, const at::Tensor& vp,
                                            const at::Tensor& q_offsets, const at::Tensor& k_offsets,
                                            const at::Tensor& block_mask, double scale,
                                            const CentroidCompensation* compensation) {
  const int64_t bh = qp.size(0);
  const int64_t q_rows = qp.size(1);
  const int64_t head_dim = qp.size(2);
  const int64_t k_rows = kp.size(1);
  const int64_t key_clusters = block_mask.size(2);
  at::Tensor queries = qp.to(at::kFloat);  // [BH, Nq, d]
  at::Tensor keys = kp.to(at::kFloat);     // [BH, Nk, d]
  at::Tensor values = vp.to(at::kFloat);   // [BH, Nk, d]
  at::Tensor q_cluster = row_clusters(q_offsets, q_rows);  // [BH, Nq]
  at::Tensor k_cluster = row_clusters(k_offsets, k_rows);  // [BH, Nk]

  // With compensation, key cluster j also appears as virtual key row Nk + j.
  at::Tensor virtual_bias;       // [BH, 1, Kc] log n_j
  at::Tensor virtual_available;  // [BH, 1, Kc] n_j > 0
  if (compensation != nullptr) {
    // An empty cluster's v̄ is never read (nor by the kernels): its weight of 0 would still carry a
    // NaN there into every row.
    const at::Tensor empty = (compensation->k_sizes == 0).unsqueeze(-1);  // [BH, Kc, 1]
    keys = at::cat({keys, compensation->k_centroids.to(at::kFloat)}, 1);                      // [BH, Nk + Kc, d]
    values = at::cat({values, compensation->v_means.to(at::kFloat).masked_fill(empty, 0.0)}, 1);  // [BH, Nk + Kc, d]
    virtual_bias = compensation->k_sizes.to(at::kFloat).log().unsqueeze(1);
    virtual_available = (compensation->k_sizes > 0).unsqueeze(1);
  }
  const int64_t all_keys = keys.size(1);

  at::Tensor output = at::empty({bh, q_rows, head_dim}, queries.options());  // [BH, Nq, d]
  const int64_t chunk = std::max<int64_t>(1, kMaxChunkElements / std::max<int64_t>(1, bh * all_keys));
  for (int64_t begin = 0; begin < q_rows; begin += chunk) {
    const int64_t rows = std::min(chunk, q_rows - begin);
    at::Tensor row_cluster = q_cluster.slice(1, begin, begin + rows).unsqueeze(-1);  // [BH, R, 1]
    at::Tensor row_blocks = block_mask.gather(1, row_cluster.expand({bh, rows, key_clusters}));  // [BH, R, Kc]
    at::Tensor allowed = row_blocks.gather(2, k_cluster.unsqueeze(1).expand({bh, rows, k_rows}));  // [BH, R, Nk]
    at::Tensor logits = at::bmm(queries.slice(1, begin, begin + rows), keys.transpose(1, 2)) * scale;  // [BH, R, Nk(+Kc)]
    if (compensation != nullptr) {
      logits.narrow(2, k_rows, key_clusters).add_(virtual_bias);
      allowed = at::cat({allowed, row_blocks.logical_not() & virtual_available}, 2);  // [BH, R, Nk + Kc]
    }
    logits.masked_fill_(allowed.logical_not(), -std::numeric_limits<float>::infinity());
    // A row with nothing allowed has max −inf; shifting it by 0 instead makes all its weights 0.
    at::Tensor row_max = logits.amax(-1, /*keepdim=*/true);  // [BH, R, 1]
    row_max.masked_fill_(row_max.isneginf(), 0.0);
    at::Tensor weights = (logits - row_max).exp_();  // [BH, R, Nk(+Kc)]
    // The row's largest weight is e^0 = 1, so the sum is ≥ 1 unless the row is empty; clamping to 1
    // turns the empty row's 0/0 into 0 without touching any other row.
    at::Tensor denominator = weights.sum(-1, /*keepdim=*/true).clamp_min_(1.0);  // [BH, R, 1]
    output.slice(1, begin, begin + rows).copy_(at::bmm(weights, values) / denominator);  // [BH, R, d]
  }
  return output.to(qp.scalar_type());
}

}  // namespace svgear
