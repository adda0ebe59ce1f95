#include "ui/routing_step.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>


namespace svgear {

RoutingStep::RoutingStep(RoutingEvent event) : RoutingEvent(std::move(event)) { summarise_heads(); }

size_t RoutingStep::detail_bytes() const {
  size_t bytes = 0;
  for (const RoutingTrace& t : traces) {
    bytes += (t.q_labels.size() + t.k_labels.size()) * sizeof(int32_t) + t.block_map.size() +
             t.block_log_error.size() * sizeof(float) + (t.q_sizes.size() + t.k_sizes.size()) * sizeof(int64_t);
  }
  return bytes;
}

void RoutingStep::drop_detail() {
  for (RoutingTrace& t : traces) {
    t.q_labels = {};
    t.k_labels = {};
    t.block_map = {};
    t.block_log_error = {};
    t.q_sizes = {};  // only the maps and the inspector read them: 3.5 MB a step at 480p, all heads traced
    t.k_sizes = {};
  }
}

void RoutingStep::summarise_heads() {
  struct Sums {
    RoutingTrace summary;
    int heads = 0, measured = 0;
    double measured_sum = 0.0;
    std::vector<double> log_errors;
  };
  std::map<int, Sums> layers;
  for (const RoutingTrace& t : traces) {
    Sums& s = layers[t.layer];
    if (s.heads == 0) {
      s.summary.step = t.step;
      s.summary.layer = t.layer;
      s.summary.head = kAllHeads;
      s.summary.q_clusters = t.q_clusters;
      s.summary.k_clusters = t.k_clusters;
      s.summary.kmeans_ms = t.kmeans_ms;  // phase times are the whole call's, the same in every head
      s.summary.permute_ms = t.permute_ms;
      s.summary.probe_ms = t.probe_ms;
      s.summary.routing_ms = t.routing_ms;
      s.summary.attention_ms = t.attention_ms;
    }
    ++s.heads;
    s.summary.density += t.density;
    if (std::isfinite(t.measured_relative_l2)) {
      s.measured_sum += t.measured_relative_l2;
      ++s.measured;
    }
    if (std::isfinite(t.estimated_log_error)) s.log_errors.push_back(t.estimated_log_error);
  }
  head_means.clear();
  for (auto& [layer, s] : layers) {
    s.summary.density /= s.heads;
    if (s.measured > 0) s.summary.measured_relative_l2 = s.measured_sum / s.measured;
    if (!s.log_errors.empty()) {  // log Σ exp, shifted by the largest term
      const double top = *std::max_element(s.log_errors.begin(), s.log_errors.end());
      double sum = 0.0;
      for (double e : s.log_errors) sum += std::exp(e - top);
      s.summary.estimated_log_error = top + std::log(sum);
    }
    head_means.push_back(std::move(s.summary));
  }
}

std::vector<std::shared_ptr<RoutingStep>> read_routing_steps(const std::filesystem::path& path, size_t detail_budget,
                                                             RoutingTraceReading* reading, std::string& cut_short) {
  std::vector<std::shared_ptr<RoutingStep>> steps;
  size_t bytes = 0, oldest_with_detail = 0;
  const nlohmann::json run = read_routing_trace(
      path,
      [&](RoutingEvent&& event) {
        steps.push_back(std::make_shared<RoutingStep>(std::move(event)));
        bytes += steps.back()->detail_bytes();
        for (; bytes > detail_budget && oldest_with_detail + 1 < steps.size(); ++oldest_with_detail) {
          bytes -= steps[oldest_with_detail]->detail_bytes();
          steps[oldest_with_detail]->drop_detail();
        }
      },
      reading, &cut_short);
  if (!steps.empty()) steps.front()->run = run;  // the file may name it after its steps
  return steps;
}

}  // namespace svgear
