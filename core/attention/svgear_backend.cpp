#include "core/attention/svgear_backend.h"

#include <ATen/ATen.h>

#include "kernels/block_routing/block_routing.h"
#include "kernels/block_sparse_attention/block_sparse_attention.h"
#include "kernels/error_probe/error_probe.h"

namespace svgear {

SvgEarBackend::SvgEarBackend(const AttentionConfig& config)
    : Svg2Backend(config, AttentionMode::SvgEar) {}

Svg2Backend::RoutedOutput SvgEarBackend::route_and_attend(const PermutedCall& call,
                                                          PhaseClock& clock) {
  const AttentionConfig& cfg = config();
  const KMeansResult& qc = call.clusters.q;
  const KMeansResult& kc = call.clusters.k;
  RoutedOutput out;
  // The probe permutes V and takes v̄_j in the read its value statistics come from.
  ProbeResult probe = error_probe(qc.centroids, kc.centroids, call.kp, call.v, call.k_layout, qc.sizes, call.scale,
                                  cfg.gamma);
  out.log_error = probe.log_error;  // [BH, Qc, Kc]
  out.probe_ms = clock.lap_ms();
  out.block_mask = route_svgear(probe.centroid_logits, probe.score, qc.sizes, kc.sizes, cfg.top_p,
                                cfg.guaranteed_ratio);  // [BH, Qc, Kc]
  out.routing_ms = clock.lap_ms();
  // k̄_j is the k-means centroid, which is the mean of the cluster's keys (the last k-means step
  // ends with an update), as the reference uses it [§3.1].
  CentroidCompensation compensation{kc.centroids, probe.v_means, kc.sizes};
  out.output = call.out;
  block_sparse_attention_out(out.output, call.qp, call.kp, probe.vp, call.q_layout.offsets, call.k_layout.offsets,
                             out.block_mask, call.scale, &compensation, call.q_layout.order);
  out.attention_ms = clock.lap_ms();
  return out;
}

}  // namespace svgear
