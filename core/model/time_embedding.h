#pragma once
// Sinusoidal timestep embedding (upstream `sinusoidal_embedding_1d`).

#include <ATen/core/Tensor.h>

namespace svgear {

// t: [B] timesteps (0..1000). Returns [B, dim] float32 on t's device:
// [cos(t·f_0) … cos(t·f_{h-1}), sin(t·f_0) … sin(t·f_{h-1})] with h = dim / 2 and
// f_i = 10000^(-i / h) — cos first, computed in float64 as upstream.
at::Tensor sinusoidal_embedding(const at::Tensor& t, int dim);

}  // namespace svgear
