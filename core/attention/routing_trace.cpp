#include "core/attention/routing_trace.h"

#include <algorithm>

namespace svgear {
namespace {

bool empty_or_contains(const std::vector<int>& list, int value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

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
