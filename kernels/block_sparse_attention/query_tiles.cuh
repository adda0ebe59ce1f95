#pragma once
// QueryTiles: the list of each head's query tiles (and tails) that the block-sparse attention
// kernels' CTAs take, CTA (x, head) the head's x-th, written by query_tiles_kernel
// (block_sparse_attention_cuda.cu) into the op's workspace before they run.
//
// A CTA reads its tile as one 16-byte record: searching the clusters' tile offsets for it was 8
// dependent loads at Qc = 200 in the prologue of a CTA that has its SM to itself (the wgmma
// kernel's two-consumer CTAs run one per SM). Ordering the list by key stream length did not pay
// (docs/kernel-notes.md, twenty-fourth session).

#include <cstdint>

#include <cuda_runtime_api.h>

namespace svgear::block_sparse {

// A query tile as the list stores it (attention_tile.cuh's QueryTile, with 32-bit rows).
struct alignas(16) TileRecord {
  int32_t cluster;
  int32_t begin;  // first permuted row within the head
  int32_t rows;
  int32_t unused;
};

// Views of the workspace: [BH] tile counts, [BH] tail counts, then per head a list of tiles (room
// for the most any kernel's tiling gives) and a list of tails (at most one per cluster). Host and
// device compute the same pointers from the same sizes.
struct QueryTiles {
  int32_t* tile_count = nullptr;
  int32_t* tail_count = nullptr;
  TileRecord* tiles = nullptr;
  TileRecord* tails = nullptr;
  int64_t tiles_per_head = 0;  // list stride

  // A cluster of m rows gives floor((m + R − 1 − T) / R) tiles of R rows when its last tile goes to
  // a tail launch if it has at most T rows (T = 0: none). For tilings with R ≥ 64 and R − 1 − T ≤ 63
  // (those in use: R = 64, T = 0 and R = 128, T = 64) a head's tiles number at most (N + 63·Qc) / R,
  // most at R = 64: the grid of R-row tiles, and the list's stride. It may be 0 (one cluster of at
  // most 64 rows at R = 128): the launch is then skipped.
  static constexpr int kMinTileRows = 64;
  __host__ __device__ static constexpr bool bounds(int tile_rows, int tail_rows) {
    return tile_rows >= kMinTileRows && tile_rows - 1 - tail_rows <= kMinTileRows - 1;
  }
  __host__ __device__ static int64_t max_tiles(int64_t q_rows, int64_t q_clusters, int tile_rows) {
    return (q_rows + (kMinTileRows - 1) * q_clusters) / tile_rows;
  }

  __host__ __device__ static int64_t header_bytes(int64_t bh) {
    return (2 * bh * int64_t(sizeof(int32_t)) + 15) / 16 * 16;
  }
  __host__ __device__ static int64_t bytes(int64_t bh, int64_t q_rows, int64_t q_clusters) {
    return header_bytes(bh) + bh * (max_tiles(q_rows, q_clusters, kMinTileRows) + q_clusters) * int64_t(sizeof(TileRecord));
  }

  __host__ __device__ QueryTiles(void* workspace, int64_t bh, int64_t q_rows, int64_t q_clusters)
      : tiles_per_head(max_tiles(q_rows, q_clusters, kMinTileRows)) {
    auto* base = static_cast<unsigned char*>(workspace);
    tile_count = reinterpret_cast<int32_t*>(base);
    tail_count = tile_count + bh;
    tiles = reinterpret_cast<TileRecord*>(base + header_bytes(bh));
    tails = tiles + bh * tiles_per_head;
  }
};

}  // namespace svgear::block_sparse
