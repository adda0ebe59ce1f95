#pragma once
// Synthetic attention inputs with cluster structure, for the k-means and sparse-backend tests.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace svgear::test {

// x: [rows, n, d] float32 drawn from a Gaussian mixture per row: `components` centres with unequal
// (Zipf-like) weights, centres ~ N(0, spread²), tokens = centre + N(0, 1). Seeded CPU generator.
at::Tensor gaussian_mixture(int64_t rows, int64_t n, int64_t d, int64_t components, double spread,
                            uint64_t seed);

struct ClusteredQKV {
  at::Tensor q, k, v;  // [B, H, N, d] float32 on the CPU
};

// q, k, v for attention: q and k Gaussian mixtures (k's centres shared by v's component means, so
// keys of one component carry similar values), scaled so that attention is peaked but not one-hot.
ClusteredQKV clustered_qkv(int64_t batch, int64_t heads, int64_t n, int64_t d, uint64_t seed);

}  // namespace svgear::test
