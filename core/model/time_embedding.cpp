#include "core/model/time_embedding.h"

#include <ATen/ATen.h>

namespace svgear {

at::Tensor sinusoidal_embedding(const at::Tensor& t, int dim) {
  TORCH_CHECK(t.dim() == 1, "t must be [B], got ", t.sizes());
  TORCH_CHECK(dim % 2 == 0, "the sinusoidal embedding needs an even dim, got ", dim);
  const int64_t half = dim / 2;
  at::Tensor position = t.to(at::kDouble);                                         // [B]
  at::Tensor freqs = at::pow(10000.0, -at::arange(half, position.options()) / double(half));
  at::Tensor angles = at::outer(position, freqs);                                 // [B, half]
  return at::cat({at::cos(angles), at::sin(angles)}, 1).to(at::kFloat);           // [B, dim]
}

}  // namespace svgear
