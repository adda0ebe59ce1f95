#include <vector>

#include <ATen/ATen.h>

#include "kernels/short_context_attention/short_context_attention.h"

namespace svgear {

at::Tensor short_context_attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                             c10::ArrayRef<float> key_log_weights, double scale) {
  const at::Tensor weights =
      at::tensor(std::vector<float>(key_log_weights.begin(), key_log_weights.end()), at::kFloat).to(q.device());
  const at::Tensor logits = at::matmul(q.to(at::kFloat), k.to(at::kFloat).transpose(-2, -1)).mul(scale).add(weights);
  return at::matmul(at::softmax(logits, -1), v.to(at::kFloat)).to(q.scalar_type());  // [B, H, N, d]
}

}  // namespace svgear
