#pragma once
// Raw-pointer launchers of the permutation gathers and the per-cluster means (see
// cluster_permutation.h for the ops).

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/half_precision.h"

namespace svgear {

// Row copies of [BH, N, row_bytes] (row_bytes a multiple of 16): gather out[b, r] = x[b, order[b, r]];
// scatter out[b, order[b, r]] = x[b, r]. x's heads and rows are x_head_bytes and x_row_bytes apart
// (multiples of 16: a view's strides); out is contiguous.
void launch_gather_rows(const void* x, const int64_t* order, void* out, int64_t bh, int64_t rows,
                        int64_t row_bytes, int64_t x_head_bytes, int64_t x_row_bytes, cudaStream_t stream);
void launch_scatter_rows(const void* x, const int64_t* order, void* out, int64_t bh, int64_t rows,
                         int64_t row_bytes, int64_t x_head_bytes, int64_t x_row_bytes, cudaStream_t stream);

// means [BH, K, d] f32 of the clusters' row ranges [offsets[c], offsets[c+1]), 0 for empty ranges;
// fp32 sums in row order. x [BH, N, d] (bf16 or fp16) is in cluster order when `order` is null;
// otherwise in token order, its cluster-order row r being x[b, order[b, r]], and xp_out (if not
// null) receives x in cluster order, contiguous. x's heads and rows are x_head_stride and
// x_row_stride elements apart (multiples of 8).
void launch_cluster_means(const void* x, const int64_t* order, const int64_t* offsets, void* xp_out, float* means,
                          int64_t bh, int64_t rows, int64_t head_dim, int64_t x_head_stride, int64_t x_row_stride,
                          int64_t clusters, HalfPrecision element, cudaStream_t stream);

}  // namespace svgear
