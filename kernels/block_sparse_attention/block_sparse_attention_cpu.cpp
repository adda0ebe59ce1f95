#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "kernels/block_sparse_attention/block_sparse_attention.h"

namespace svgear {

// 16 MiB of float32 logits per thread at a time.
constexpr int64_t kMostLogits = int64_t(1) << 22;

// Per (head, query cluster), in parallel over those pairs: gather the keys and values of the routed
// clusters (contiguous row ranges of kp/vp) and, with compensation, the skipped non-empty clusters'
// centroids as virtual keys; then one softmax over them in float32: S = Q·K_selᵀ·scale (+ log n_j for
// the virtual keys), P = e^{S − max}, O = P·V_sel / Σ P. The work is the routed blocks' (the
// reference computes every logit and masks), and each product is one GEMM of the cluster's rows.
at::Tensor block_sparse_attention_cpu(const at::Tensor& qp, const at::Tensor& kp, const at::Tensor& vp,
                                      const at::Tensor& q_offsets, const at::Tensor& k_offsets,
                                      const at::Tensor& block_mask, double scale,
                                      const CentroidCompensation* compensation) {
  const int64_t bh = qp.size(0), q_rows = qp.size(1), d = qp.size(2), k_rows = kp.size(1);
  const int64_t q_clusters = block_mask.size(1), k_clusters = block_mask.size(2);
  const at::Tensor queries = qp.to(at::kFloat).contiguous();  // [BH, Nq, d]
  const at::Tensor keys = kp.to(at::kFloat).contiguous();     // [BH, Nk, d]
  const at::Tensor values = vp.to(at::kFloat).contiguous();   // [BH, Nk, d]
  const at::Tensor q_off = q_offsets.contiguous(), k_off = k_offsets.contiguous(), mask = block_mask.contiguous();
  at::Tensor kbar, vbar, sizes;
  if (compensation != nullptr) {
    kbar = compensation->k_centroids.to(at::kFloat).contiguous();  // [BH, Kc, d]
    vbar = compensation->v_means.to(at::kFloat).contiguous();      // [BH, Kc, d]
    sizes = compensation->k_sizes.contiguous();                    // [BH, Kc]
  }
  at::Tensor output = at::zeros({bh, q_rows, d}, queries.options());  // rows with nothing to attend stay 0

  const int64_t* q_off_data = q_off.data_ptr<int64_t>();
  const int64_t* k_off_data = k_off.data_ptr<int64_t>();
  const bool* mask_data = mask.data_ptr<bool>();
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  at::parallel_for(0, bh * q_clusters, 1, [&](int64_t first, int64_t last) {
    std::vector<float> k_sel, v_sel, bias;
    for (int64_t task = first; task < last; ++task) {
      const int64_t head = task / q_clusters, cluster = task % q_clusters;
      const int64_t* qo = q_off_data + head * (q_clusters + 1);
      const int64_t q_begin = qo[cluster], m = qo[cluster + 1] - q_begin;
      if (m == 0) continue;
      const int64_t* ko = k_off_data + head * (k_clusters + 1);
      const bool* routed = mask_data + (head * q_clusters + cluster) * k_clusters;
      const float* head_keys = keys.data_ptr<float>() + head * k_rows * d;
      const float* head_values = values.data_ptr<float>() + head * k_rows * d;
      k_sel.clear();
      v_sel.clear();
      for (int64_t j = 0; j < k_clusters; ++j) {
        if (!routed[j] || ko[j + 1] == ko[j]) continue;
        const int64_t count = ko[j + 1] - ko[j];
        k_sel.insert(k_sel.end(), head_keys + ko[j] * d, head_keys + (ko[j] + count) * d);
        v_sel.insert(v_sel.end(), head_values + ko[j] * d, head_values + (ko[j] + count) * d);
      }
      const int64_t exact = int64_t(k_sel.size()) / d;
      bias.clear();
      if (compensation != nullptr) {
        const int64_t* n = sizes.data_ptr<int64_t>() + head * k_clusters;
        const float* head_kbar = kbar.data_ptr<float>() + head * k_clusters * d;
        const float* head_vbar = vbar.data_ptr<float>() + head * k_clusters * d;
        for (int64_t j = 0; j < k_clusters; ++j) {
          if (routed[j] || n[j] <= 0) continue;
          k_sel.insert(k_sel.end(), head_kbar + j * d, head_kbar + (j + 1) * d);
          v_sel.insert(v_sel.end(), head_vbar + j * d, head_vbar + (j + 1) * d);
          bias.push_back(std::log(float(n[j])));
        }
      }
      const int64_t total = int64_t(k_sel.size()) / d;
      if (total == 0) continue;
      const at::Tensor k = at::from_blob(k_sel.data(), {total, d}, f32);  // [L, d]
      const at::Tensor v = at::from_blob(v_sel.data(), {total, d}, f32);  // [L, d]
      // The query rows in chunks of at most kMostLogits logits: a cluster holding most of the tokens
      // (identical tokens, padding) would otherwise ask for an [N, N] matrix.
      const int64_t chunk = std::max<int64_t>(1, kMostLogits / total);
      for (int64_t row = 0; row < m; row += chunk) {
        const int64_t rows = std::min(chunk, m - row);
        const at::Tensor q = queries[head].narrow(0, q_begin + row, rows);  // [rows, d]
        at::Tensor logits = at::mm(q, k.t()).mul_(scale);                   // [rows, L]
        if (!bias.empty()) {
          logits.narrow(1, exact, total - exact).add_(at::from_blob(bias.data(), {total - exact}, f32));
        }
        logits.sub_(logits.amax(1, /*keepdim=*/true)).exp_();  // every row has a finite max: L >= 1
        const at::Tensor denominator = logits.sum(1, /*keepdim=*/true);  // >= 1 (the max's e^0)
        output[head].narrow(0, q_begin + row, rows).copy_(at::mm(logits, v).div_(denominator));
      }
    }
  });
  return output.to(qp.scalar_type());
}

}  // namespace svgear
