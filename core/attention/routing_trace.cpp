#include "core/attention/routing_trace.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "core/user_error.h"

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

std::vector<int> parse_trace_selection(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
  }
  if (compact.empty() || compact == "all") return {};
  const auto refuse = [&] {
    // Appended, not chained with +: GCC 12 warns about the chain (a -Wstringop-overflow false positive).
    std::string message = "'";
    message.append(text).append(
        "' is not a selection of layers or heads: type all, or numbers and ranges such as 0,3-5");
    return UserError(message);
  };
  // Each item: a number, or two numbers joined by '-' (the first not above the second).
  constexpr long kLargest = 100000;
  std::vector<int> picked;
  size_t at = 0;
  const auto number = [&](long& value) {
    const size_t start = at;
    value = 0;
    while (at < compact.size() && std::isdigit(static_cast<unsigned char>(compact[at]))) {
      value = value * 10 + (compact[at++] - '0');
      if (value > kLargest) throw refuse();
    }
    if (at == start) throw refuse();
  };
  while (true) {
    long first = 0, last = 0;
    number(first);
    last = first;
    if (at < compact.size() && compact[at] == '-') {
      ++at;
      number(last);
      if (last < first) throw refuse();
    }
    for (long i = first; i <= last; ++i) picked.push_back(int(i));
    if (at == compact.size()) break;
    if (compact[at++] != ',') throw refuse();
  }
  std::sort(picked.begin(), picked.end());
  picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
  return picked;
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
