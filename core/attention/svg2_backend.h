#pragma once
// Svg2Backend: SVG2 sparse attention [spec §2]. Per call: k-means on Q and on K per head
// (warm-started from the CentroidCache), permute tokens so every cluster is contiguous, estimate
// each block's attention mass from the centroids, keep the top-p blocks per query cluster, run
// exact attention on the kept blocks only (skipped blocks are dropped), and undo the permutation.
// The first steps and layers stay dense (sparse_schedule.h) and go through DenseBackend.
//
// SvgEarBackend derives from it and replaces only the routing and attention step (spec §3:
// "everything else as in §2").

#include <chrono>
#include <string>
#include <string_view>

#include <ATen/core/Tensor.h>

#include "core/attention/attention_backend.h"
#include "core/attention/attention_config.h"
#include "core/attention/centroid_cache.h"
#include "core/attention/dense_backend.h"
#include "core/attention/routing_trace.h"
#include "kernels/cluster_permutation/cluster_permutation.h"

namespace svgear {

class Svg2Backend : public AttentionBackend {
 public:
  explicit Svg2Backend(const AttentionConfig& config);

  std::string_view name() const override { return "svg2"; }
  // This backend's mode with sane knobs, on CPU or CUDA (the ops' ATen references run on both).
  bool supports(const AttentionConfig& config, at::Device device, std::string* why) const override;
  // q, k, v: [B, H, N, d], one N for all three (self-attention). Returns o: [B, H, N, d], q's dtype.
  at::Tensor forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const AttentionCall& call) override;

  // Sends a RoutingTrace per selected (layer, head) of every sparse call to `sink` (not owned;
  // nullptr stops tracing). Tracing synchronises the device between phases to time them.
  void set_trace(const TraceOptions& options, RoutingTraceSink* sink);
  // The next calls warm-start each layer from `previous`'s centroids, where `previous` stopped; it
  // keeps none. Wan2.2-A14B's expert switch: the reference attaches one processor (one cache) to
  // block l of both experts [spec §2.2, P4], so the low-noise expert's first sparse step does not
  // cluster from scratch.
  void continue_clustering_from(Svg2Backend& previous) { cache_.take_entries_from(previous.cache_); }

 protected:
  // Wall-clock time between phases. When enabled it synchronises the device first, so the laps
  // measure the work, not its launch; when disabled it neither waits nor measures (returns 0).
  class PhaseClock {
   public:
    PhaseClock(bool enabled, at::Device device);
    double lap_ms();

   private:
    bool enabled_;
    at::Device device_;
    std::chrono::steady_clock::time_point last_;
  };

  // One sparse call after clustering and permutation.
  struct PermutedCall {
    at::Tensor qp;  // [BH, N, d] permuted by the query layout
    at::Tensor kp;  // [BH, N, d] permuted by the key layout
    at::Tensor v;   // [BH, N, d] in token order (a view of the caller's V)
    at::Tensor vp;  // [BH, N, d] permuted by the key layout (V follows K, spec §2.3); undefined where
                    // route_and_attend permutes V itself (permutes_values_in_route())
    at::Tensor out;      // [BH, N, d] where route_and_attend writes the output (any head and row strides)
    ClusteredQK clusters;
    ClusterLayout q_layout;
    ClusterLayout k_layout;
    double scale = 0.0;  // d^-1/2
  };

  struct RoutedOutput {
    at::Tensor output;      // PermutedCall::out, in the original token order (the op's fused scatter), qp's dtype
    at::Tensor block_mask;  // [BH, Qc, Kc] bool, true = computed exactly
    at::Tensor log_error;   // [BH, Qc, Kc] f32 probe estimate; undefined without a probe (SVG2)
    double probe_ms = 0.0;
    double routing_ms = 0.0;
    double attention_ms = 0.0;
  };

  Svg2Backend(const AttentionConfig& config, AttentionMode mode);

  // SVG2: centroid logits, top-p routing [§2.4–2.5], block-sparse attention without compensation.
  virtual RoutedOutput route_and_attend(const PermutedCall& call, PhaseClock& clock);
  // Whether route_and_attend permutes V itself (SVG-EAR's probe does, with v̄_j and the statistics
  // it takes from the same read), so forward leaves PermutedCall::vp undefined.
  virtual bool permutes_values_in_route() const { return false; }

  const AttentionConfig& config() const { return config_; }

 private:
  void emit_traces(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                   const AttentionCall& call, const PermutedCall& permuted,
                   const RoutedOutput& routed, double kmeans_ms, double permute_ms,
                   const at::Tensor& o);

  AttentionConfig config_;
  AttentionMode mode_;
  CentroidCache cache_;
  DenseBackend dense_;
  TraceOptions trace_options_;
  RoutingTraceSink* trace_sink_ = nullptr;
};

}  // namespace svgear
