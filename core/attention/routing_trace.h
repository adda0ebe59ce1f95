#pragma once
// RoutingTrace: what a sparse backend decided for one (step, layer, head), for `--trace`, the
// studio's routing views and tests. Plain data without ATen, so ui/ can include it.
//
// Labels are in the original token order; matrices are row-major [query cluster][key cluster].

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace svgear {

struct RoutingTrace {
  int step = 0;
  int layer = 0;
  int batch = 0;  // index in the call's batch (one CFG branch per call: usually 0)
  int head = 0;
  int q_clusters = 0;  // Qc
  int k_clusters = 0;  // Kc
  std::vector<int32_t> q_labels;  // [N] token → query cluster
  std::vector<int32_t> k_labels;  // [N] token → key cluster
  std::vector<int64_t> q_sizes;   // [Qc] m_i
  std::vector<int64_t> k_sizes;   // [Kc] n_j
  // [Qc·Kc] 1 = computed exactly, 0 = skipped (SVG2) or compensated by the centroid (SVG-EAR).
  std::vector<uint8_t> block_map;
  // [Qc·Kc] log ε̂²_ij, the probe's error estimate (spec §3.3); empty for SVG2, which has no probe.
  std::vector<float> block_log_error;
  double density = 0.0;  // Σ_{exact} m_i·n_j / N²
  // log Σ_{compensated} ε̂²_ij: the probe's (unnormalised) estimate of what compensation costs this
  // head; NaN for SVG2.
  double estimated_log_error = std::numeric_limits<double>::quiet_NaN();
  // ||o − o_dense|| / ||o_dense|| for this head, measured against dense attention in audit mode;
  // NaN when the layer is not audited.
  double measured_relative_l2 = std::numeric_limits<double>::quiet_NaN();
  // Wall time of each phase of the whole call (all heads), with device synchronisation between
  // phases while tracing.
  double kmeans_ms = 0.0;  // Q and K clustered, and (on CUDA) written in cluster order by the last update
  double permute_ms = 0.0;  // SVG2: V in key-cluster order; SVG-EAR: nothing (its probe permutes V)
  double probe_ms = 0.0;  // SVG2: the centroid logits only; SVG-EAR: V's permutation with v̄ and the probe
  double routing_ms = 0.0;
  double attention_ms = 0.0;
};

// Receives traces on the thread that runs attention; implementations copy or forward them.
class RoutingTraceSink {
 public:
  virtual ~RoutingTraceSink() = default;
  virtual void on_trace(RoutingTrace&& trace) = 0;
};

struct TraceOptions {
  bool enabled = false;
  std::vector<int> layers, heads;  // empty = all
  std::vector<int> audit_layers;   // layers also run densely to measure the true error
};

// Appends the trace as one JSON object: every field under its own name; NaN and infinite
// estimates and errors become null (JSON has neither). Labels, sizes and maps are arrays, empty when
// the trace holds none (the studio drops them from old steps). The arrays are written number by
// number (std::to_chars, floats in their shortest exact form), not through a JSON tree: a
// Wan-1.3B 480p step traced in every layer and head holds ~170 million of them.
void append_routing_trace_json(const RoutingTrace& trace, std::string& out);

// A trace's labels, sizes, block map and error estimates as read from a file, apart from its other
// fields (a Wan step holds ~170 million entries: no JSON tree of them). nullopt: the field is absent
// or not an array. An entry that is not a whole number reads as kNotWhole.
// The most clusters a trace read back may name (routing_trace_from_json's check).
inline constexpr int64_t kMaxTraceClusters = int64_t(1) << 20;

struct RoutingTraceArrays {
  static constexpr int64_t kNotWhole = std::numeric_limits<int64_t>::min();
  std::optional<std::vector<int64_t>> q_labels, k_labels, q_sizes, k_sizes, block_map;
  std::optional<std::vector<double>> block_log_error;  // null entries as NaN
  bool block_log_error_has_other = false;              // an entry neither a number nor null
};

// The inverse of append_routing_trace_json, for traces read back from a file: `fields` holds every
// field but the arrays (null as NaN). Checks what a reader indexes with (a hostile or damaged file
// must fail here, not in a view): cluster counts from 1 to 2^20, sizes and maps of Qc / Kc / Qc·Kc
// entries or none, labels of `tokens` entries or none, each a cluster below its count, sizes that
// sum to `tokens` and that the labels give, map entries 0 or 1, and labels, sizes and map all
// present or all absent (the studio drops them together). Throws UserError naming the field.
RoutingTrace routing_trace_from_json(const nlohmann::json& fields, RoutingTraceArrays arrays, int64_t tokens);

// A selection of layers or heads as a user types it: "all" or nothing → empty (every one);
// otherwise numbers and ranges, "0,3-5" → {0, 3, 4, 5} (sorted, each once). Throws UserError
// naming the text when it is neither.
std::vector<int> parse_trace_selection(std::string_view text);

// Throws UserError when an entry of `chosen` is not one of a model's `count` layers or heads
// (`what`: "layer" or "head"): "routing trace head 7 does not exist: this model has heads 0 to 3".
void require_trace_selection_within(const std::vector<int>& chosen, int count, std::string_view what);

// Whether `options` asks for traces of `layer` (of head `head`), and for the dense audit of `layer`.
bool trace_selects_layer(const TraceOptions& options, int layer);
bool trace_selects_head(const TraceOptions& options, int head);
bool trace_audits_layer(const TraceOptions& options, int layer);

}  // namespace svgear
