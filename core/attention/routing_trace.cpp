#include "core/attention/routing_trace.h"

#include <algorithm>
#include <cmath>

namespace svgear {
namespace {

bool empty_or_contains(const std::vector<int>& list, int value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

nlohmann::json finite_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

}  // namespace

nlohmann::json routing_trace_to_json(const RoutingTrace& t) {
  nlohmann::json log_error = nlohmann::json::array();
  for (float e : t.block_log_error) log_error.push_back(finite_or_null(e));
  return {{"step", t.step},
          {"layer", t.layer},
          {"batch", t.batch},
          {"head", t.head},
          {"q_clusters", t.q_clusters},
          {"k_clusters", t.k_clusters},
          {"density", t.density},
          {"estimated_log_error", finite_or_null(t.estimated_log_error)},
          {"measured_relative_l2", finite_or_null(t.measured_relative_l2)},
          {"phase_ms",
           {{"kmeans", t.kmeans_ms},
            {"permute", t.permute_ms},
            {"probe", t.probe_ms},
            {"routing", t.routing_ms},
            {"attention", t.attention_ms}}},
          {"q_sizes", t.q_sizes},
          {"k_sizes", t.k_sizes},
          {"block_map", t.block_map},
          {"block_log_error", log_error},
          {"q_labels", t.q_labels},
          {"k_labels", t.k_labels}};
}

bool trace_selects_layer(const TraceOptions& options, int layer) {
  return options.enabled && empty_or_contains(options.layers, layer);
}

bool trace_selects_head(const TraceOptions& options, int head) {
  return options.enabled && empty_or_contains(options.heads, head);
}

bool trace_audits_layer(const TraceOptions& options, int layer) {
  return trace_selects_layer(options, layer) &&
         std::find(options.audit_layers.begin(), options.audit_layers.end(), layer) !=
             options.audit_layers.end();
}

}  // namespace svgear
