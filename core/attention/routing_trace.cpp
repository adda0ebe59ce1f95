#include "core/attention/routing_trace.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>

#include "core/user_error.h"

namespace svgear {
namespace {

bool empty_or_contains(const std::vector<int>& list, int value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

nlohmann::json finite_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

}  // namespace

namespace {

template <class T>
void append_numbers(std::string& out, const char* key, const std::vector<T>& values) {
  out += ",\"";
  out += key;
  out += "\":[";
  char buffer[32];
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(values[i])) {
        out += "null";
        continue;
      }
    }
    const auto written = std::to_chars(buffer, buffer + sizeof buffer, values[i]);
    out.append(buffer, written.ptr);
  }
  out += ']';
}

}  // namespace

void append_routing_trace_json(const RoutingTrace& t, std::string& out) {
  std::string scalars = nlohmann::json{{"step", t.step},
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
                                         {"attention", t.attention_ms}}}}
                            .dump();
  scalars.pop_back();  // the closing brace: the arrays follow
  out += scalars;
  append_numbers(out, "q_sizes", t.q_sizes);
  append_numbers(out, "k_sizes", t.k_sizes);
  append_numbers(out, "block_map", std::vector<int>(t.block_map.begin(), t.block_map.end()));
  append_numbers(out, "block_log_error", t.block_log_error);
  append_numbers(out, "q_labels", t.q_labels);
  append_numbers(out, "k_labels", t.k_labels);
  out += '}';
}

RoutingTrace routing_trace_from_json(const nlohmann::json& j, RoutingTraceArrays arrays, int64_t tokens) {
  const auto refuse = [](const std::string& what) { return UserError("a routing trace " + what); };
  if (!j.is_object()) throw refuse("is not a JSON object");
  const auto integer = [&](const char* key, int64_t low, int64_t high) {
    if (!j.contains(key) || !j[key].is_number_integer()) throw refuse(std::string("has no whole number \"") + key + "\"");
    const int64_t v = j[key].get<int64_t>();
    if (v < low || v > high) {
      throw refuse(std::string("has \"") + key + "\" " + std::to_string(v) + ", outside " + std::to_string(low) + "…" +
                   std::to_string(high));
    }
    return v;
  };
  const auto number = [&](const nlohmann::json& value, const char* key) {
    if (value.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (!value.is_number()) throw refuse(std::string("has a \"") + key + "\" that is not a number");
    return value.get<double>();
  };
  // A number no trace can hold (a density past 1, a negative time) would be shown as a fact.
  const auto bounded = [&](const nlohmann::json& value, const std::string& key, double low, double high) {
    const double v = number(value, key.c_str());
    if (!std::isnan(v) && !(v >= low && v <= high)) {
      std::ostringstream text;
      text << "has \"" << key << "\" " << v;
      if (std::isinf(high)) {
        text << ", below " << low;
      } else {
        text << ", outside " << low << "…" << high;
      }
      throw refuse(text.str());
    }
    return v;
  };
  // An array of `full` entries or none.
  const auto array = [&](auto& values, const char* key, size_t full) -> auto& {
    if (!values) throw refuse(std::string("has no array \"") + key + "\"");
    if (!values->empty() && values->size() != full) {
      throw refuse(std::string("has ") + std::to_string(values->size()) + " entries in \"" + key + "\", not " +
                   std::to_string(full) + " (or none)");
    }
    return *values;
  };
  RoutingTrace t;
  t.step = int(integer("step", 0, INT32_MAX));
  t.layer = int(integer("layer", 0, INT32_MAX));
  t.batch = int(integer("batch", 0, INT32_MAX));
  t.head = int(integer("head", 0, INT32_MAX));
  t.q_clusters = int(integer("q_clusters", 1, kMaxTraceClusters));
  t.k_clusters = int(integer("k_clusters", 1, kMaxTraceClusters));
  constexpr double kNoLimit = std::numeric_limits<double>::infinity();
  t.density = bounded(j.value("density", nlohmann::json()), "density", 0.0, 1.0);
  t.estimated_log_error = number(j.value("estimated_log_error", nlohmann::json()), "estimated_log_error");
  t.measured_relative_l2 =
      bounded(j.value("measured_relative_l2", nlohmann::json()), "measured_relative_l2", 0.0, kNoLimit);
  if (const auto phases = j.find("phase_ms"); phases != j.end() && phases->is_object()) {
    const auto phase = [&](const char* name) {
      return bounded(phases->value(name, nlohmann::json()), std::string("phase_ms.") + name, 0.0, kNoLimit);
    };
    t.kmeans_ms = phase("kmeans");
    t.permute_ms = phase("permute");
    t.probe_ms = phase("probe");
    t.routing_ms = phase("routing");
    t.attention_ms = phase("attention");
  }
  const size_t qc = size_t(t.q_clusters), kc = size_t(t.k_clusters);
  const auto sizes = [&](std::optional<std::vector<int64_t>>& values, const char* key, size_t count) {
    int64_t sum = 0;
    for (const int64_t v : array(values, key, count)) {
      if (v < 0 || v > tokens) {  // kNotWhole among them
        throw refuse(std::string("has a cluster size in \"") + key + "\" that is not a count of tokens");
      }
      sum += v;
    }
    if (!values->empty() && sum != tokens) {
      throw refuse(std::string("has \"") + key + "\" summing to " + std::to_string(sum) + ", not the " +
                   std::to_string(tokens) + " tokens of its grid");
    }
    return std::move(*values);
  };
  t.q_sizes = sizes(arrays.q_sizes, "q_sizes", qc);
  t.k_sizes = sizes(arrays.k_sizes, "k_sizes", kc);
  const auto labels = [&](std::optional<std::vector<int64_t>>& values, const char* key, int64_t clusters,
                          const std::vector<int64_t>& cluster_sizes) {
    std::vector<int32_t> out;
    const std::vector<int64_t>& checked = array(values, key, size_t(tokens));
    out.reserve(checked.size());
    std::vector<int64_t> counted(checked.empty() ? 0 : size_t(clusters), 0);
    for (const int64_t v : checked) {
      if (v < 0 || v >= clusters) {
        throw refuse(std::string("has a label in \"") + key + "\" that is not one of its " + std::to_string(clusters) +
                     " clusters");
      }
      out.push_back(int32_t(v));
      ++counted[size_t(v)];
    }
    if (!out.empty() && !cluster_sizes.empty() && counted != cluster_sizes) {
      throw refuse(std::string("has \"") + key + "\" that do not give its cluster sizes");
    }
    return out;
  };
  t.q_labels = labels(arrays.q_labels, "q_labels", t.q_clusters, t.q_sizes);
  t.k_labels = labels(arrays.k_labels, "k_labels", t.k_clusters, t.k_sizes);
  const std::vector<int64_t>& map = array(arrays.block_map, "block_map", qc * kc);
  t.block_map.reserve(map.size());
  for (const int64_t v : map) {
    if (v != 0 && v != 1) throw refuse("has a block map entry that is neither 0 nor 1");
    t.block_map.push_back(uint8_t(v));
  }
  const std::vector<double>& errors = array(arrays.block_log_error, "block_log_error", qc * kc);
  if (arrays.block_log_error_has_other) throw refuse("has a \"block_log_error\" that is not a number");
  t.block_log_error.assign(errors.begin(), errors.end());
  // The views read labels, sizes and map together: a trace holds all of them or none (SVG2's have
  // no error estimates either way).
  const bool any = !t.q_labels.empty() || !t.k_labels.empty() || !t.q_sizes.empty() || !t.k_sizes.empty() ||
                   !t.block_map.empty() || !t.block_log_error.empty();
  const bool all = !t.q_labels.empty() && !t.k_labels.empty() && !t.q_sizes.empty() && !t.k_sizes.empty() &&
                   !t.block_map.empty();
  if (any && !all) {
    throw refuse("has only part of its detail: labels, cluster sizes and block map come together, or not at all");
  }
  return t;
}

std::vector<int> parse_trace_selection(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
  }
  if (compact.empty() || compact == "all") return {};
  const auto refuse = [&](std::string_view why = {}) {
    // Appended, not chained with +: GCC 12 warns about the chain (a -Wstringop-overflow false positive).
    std::string message = "'";
    message.append(text).append("' is not a selection of layers or heads");
    if (!why.empty()) message.append(" (").append(why).append(")");
    message.append(": type all, or numbers and ranges such as 0,3-5");
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
      if (last < first) {
        throw refuse("the range " + std::to_string(first) + "-" + std::to_string(last) + " runs backwards: give " +
                     std::to_string(last) + "-" + std::to_string(first));
      }
    }
    for (long i = first; i <= last; ++i) picked.push_back(int(i));
    if (at == compact.size()) break;
    if (compact[at++] != ',') throw refuse();
  }
  std::sort(picked.begin(), picked.end());
  picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
  return picked;
}

void require_trace_selection_within(const std::vector<int>& chosen, int count, std::string_view what) {
  for (int i : chosen) {
    if (i < 0 || i >= count) {
      std::string message = "routing trace ";
      message.append(what).append(" ").append(std::to_string(i)).append(" does not exist: this model has ");
      message.append(what).append("s 0 to ").append(std::to_string(count - 1));
      throw UserError(message);
    }
  }
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
