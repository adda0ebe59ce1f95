#pragma once
// Raw-pointer launcher of the block-sparse attention kernel (see block_sparse_attention.h for the op).

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/half_precision.h"

namespace svgear {

// Every pointer is device memory, row-major and contiguous but `out`'s rows. T = the element type.
struct BlockSparseAttentionArgs {
  const void* qp = nullptr;           // [BH, Nq, d] T, permuted by query cluster
  const void* kp = nullptr;           // [BH, Nk, d] T, permuted by key cluster
  const void* vp = nullptr;           // [BH, Nk, d] T
  const int64_t* q_offsets = nullptr;  // [BH, Qc+1]
  const int64_t* k_offsets = nullptr;  // [BH, Kc+1]
  const bool* block_mask = nullptr;    // [BH, Qc, Kc]
  // Compensation (all three null for SVG2): virtual key j = (k̄_j, v̄_j) with weight n_j.
  const void* k_centroids = nullptr;  // [BH, Kc, d] T
  const void* v_means = nullptr;      // [BH, Kc, d] T
  const int64_t* k_sizes = nullptr;   // [BH, Kc]
  const int64_t* out_order = nullptr;  // [BH, Nq] or null: permuted row r is written to row out_order[r]
  void* out = nullptr;                 // [BH, Nq, d] T, its rows out_row_stride elements apart and its
  int64_t out_head_stride = 0;         // heads out_head_stride (both even: 4-byte stores); a row's d
  int64_t out_row_stride = 0;          // elements contiguous
  void* workspace = nullptr;           // block_sparse_attention_workspace_bytes(): the query tiles
  int64_t bh = 0, q_rows = 0, k_rows = 0, head_dim = 0, q_clusters = 0, k_clusters = 0;
  float scale = 0.0f;
  HalfPrecision element = HalfPrecision::BFloat16;
  bool allow_wgmma = true;  // false: the mma.sync kernel even where the wgmma one runs
};

// The shapes the kernels handle on the current device; the op falls back to its ATen reference for
// the rest.
bool block_sparse_attention_cuda_supports(int64_t head_dim, int64_t k_clusters);
int64_t block_sparse_attention_workspace_bytes(int64_t bh, int64_t q_rows, int64_t q_clusters);
// A call is two steps on `stream`. First the list of query tiles (query_tiles.cuh) of the kernel
// these args run, into args.workspace. Then the wgmma kernel (block_sparse_attention_sm90.cu) where the
// current device loads it and args.allow_wgmma, else the mma.sync kernel
// (block_sparse_attention_cuda.cu, sm_80 and later). Where block_sparse_attention_launches_tails(args),
// the wgmma kernel's one-consumer launch (a cluster's last tile of at most 64 rows) goes to
// `tail_stream`: the caller orders it after `stream`'s work up to the list, i.e. forks it between the
// two steps, and joins it back; it may be `stream` itself.
void launch_block_sparse_attention_tiles(const BlockSparseAttentionArgs& args, cudaStream_t stream);
void launch_block_sparse_attention(const BlockSparseAttentionArgs& args, cudaStream_t stream, cudaStream_t tail_stream);
// The list for a given tiling: tiles of tile_rows rows, tails of at most tail_rows (0: none). The
// first step runs it with its kernel's tiling.
void launch_query_tiles(const BlockSparseAttentionArgs& args, int tile_rows, int tail_rows, cudaStream_t stream);
bool block_sparse_attention_launches_tails(const BlockSparseAttentionArgs& args);

// Whether this build has the wgmma kernel for the current device (an sm_90 GPU), the query rows of
// its tiles, and the rows of a cluster's last tile up to which that tile goes to its one-consumer
// launch instead (the query tiles are listed with these).
bool block_sparse_attention_sm90_runs_here();
constexpr int block_sparse_attention_sm90_tile_rows = 128;
constexpr int block_sparse_attention_sm90_tail_rows = 64;
void launch_block_sparse_attention_sm90(const BlockSparseAttentionArgs& args, cudaStream_t stream, cudaStream_t tail_stream);

}  // namespace svgear
