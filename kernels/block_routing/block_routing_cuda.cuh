#pragma once
// Raw-pointer launcher of the block-routing kernel (see block_routing.h for the rules).

#include <cstdint>

#include <cuda_runtime_api.h>

namespace svgear {

// Every pointer is device memory, row-major and contiguous.
struct BlockRoutingArgs {
  const float* centroid_logits = nullptr;  // [BH, Qc, Kc]
  const float* score = nullptr;            // [BH, Qc, Kc] for SVG-EAR; null = SVG2
  const int64_t* q_sizes = nullptr;        // [BH, Qc] (SVG-EAR)
  const int64_t* k_sizes = nullptr;        // [BH, Kc]
  bool* mask = nullptr;                    // [BH, Qc, Kc] out: every element is written
  int64_t bh = 0, q_clusters = 0, k_clusters = 0;
  double top_p = 0.0;
  // SVG2: the first `force_keep` clusters by probability are kept. SVG-EAR: the budget's top-p set
  // force-keeps `force_keep` = max(1, int(2r·Kc)) and G is the first `guaranteed` = max(1, int(r·Kc)).
  int force_keep = 0;
  int guaranteed = 0;
};

// The shapes the kernel handles: rows = BH·Qc, one CTA each (a 1-D grid), and key-cluster counts
// whose rows sort in shared memory; the op runs its ATen reference for the rest. Cluster sizes are
// read as int (a cluster of 2³¹ tokens would need a 512 GB K at d = 128 in bf16).
bool block_routing_cuda_supports(int64_t rows, int64_t k_clusters);
void launch_block_routing(const BlockRoutingArgs& args, cudaStream_t stream);

}  // namespace svgear
