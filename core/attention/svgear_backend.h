#pragma once
// SvgEarBackend: SVG-EAR [spec §3]. Clustering, permutation, schedule and tracing are SVG2's
// (Svg2Backend); routing and attention differ:
//   - v̄_j, the value mean of every key cluster [§3.1];
//   - the error probe: per block, the estimated error ε̂²_ij of replacing its keys and values by the
//     key centroid and value mean, and ε̂² per unit area [§3.3];
//   - error-aware routing within SVG2's top-p area budget [§3.4];
//   - exact attention on routed blocks plus centroid compensation for every other non-empty key
//     cluster [§3.2], so skipped blocks are approximated instead of dropped.

#include <string_view>

#include "core/attention/svg2_backend.h"

namespace svgear {

class SvgEarBackend : public Svg2Backend {
 public:
  explicit SvgEarBackend(const AttentionConfig& config);

  std::string_view name() const override { return "svgear"; }

 protected:
  RoutedOutput route_and_attend(const PermutedCall& call, PhaseClock& clock) override;
  bool permutes_values_in_route() const override { return true; }  // in the error probe
};

}  // namespace svgear
