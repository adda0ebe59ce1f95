#include "tests/attention/clustered_qkv.h"

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace svgear::test {
namespace {

// [rows, n] component index per token, Zipf-like weights 1/(c+1).
at::Tensor component_labels(int64_t rows, int64_t n, int64_t components, at::Generator& gen) {
  at::Tensor weights = 1.0 / (at::arange(components, at::kDouble) + 1.0);          // [C]
  return at::multinomial(weights.unsqueeze(0).expand({rows, components}), n, true, gen);  // [rows, n]
}

at::Tensor pick_rows(const at::Tensor& centres, const at::Tensor& labels) {
  // centres [rows, C, d], labels [rows, n] → [rows, n, d]
  return centres.gather(1, labels.unsqueeze(-1).expand({labels.size(0), labels.size(1), centres.size(2)}));
}

}  // namespace

at::Tensor gaussian_mixture(int64_t rows, int64_t n, int64_t d, int64_t components, double spread,
                            uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor centres = at::randn({rows, components, d}, gen) * spread;  // [rows, C, d]
  at::Tensor labels = component_labels(rows, n, components, gen);      // [rows, n]
  return pick_rows(centres, labels) + at::randn({rows, n, d}, gen);     // [rows, n, d]
}

ClusteredQKV clustered_qkv(int64_t batch, int64_t heads, int64_t n, int64_t d, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t rows = batch * heads;
  const int64_t components = 24;
  at::Tensor q_centres = at::randn({rows, components, d}, gen);  // [BH, C, d]
  at::Tensor k_centres = at::randn({rows, components, d}, gen);  // [BH, C, d]
  at::Tensor v_centres = at::randn({rows, components, d}, gen);  // [BH, C, d]
  at::Tensor q_labels = component_labels(rows, n, components, gen);
  at::Tensor k_labels = component_labels(rows, n, components, gen);
  // Centre logits s·q̄·k̄ = gain²·(c_q·c_k)/√d ~ N(0, 3²): a few key components dominate each
  // query component, but not one alone.
  const double gain = std::sqrt(3.0);
  at::Tensor q = (pick_rows(q_centres, q_labels) + 0.3 * at::randn({rows, n, d}, gen)) * gain;
  at::Tensor k = (pick_rows(k_centres, k_labels) + 0.3 * at::randn({rows, n, d}, gen)) * gain;
  at::Tensor v = pick_rows(v_centres, k_labels) + 0.3 * at::randn({rows, n, d}, gen);
  return {q.view({batch, heads, n, d}), k.view({batch, heads, n, d}), v.view({batch, heads, n, d})};
}

}  // namespace svgear::test
