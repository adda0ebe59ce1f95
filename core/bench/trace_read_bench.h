#pragma once
// `svgear bench trace`: how fast a routing trace file is written and read back (the studio's File ▸
// Open routing trace), on synthetic traces of a Wan shape's size: labels, cluster sizes, a block
// map and error estimates per (layer, head), as `svgear generate --trace` writes them.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/cancel_token.h"

namespace svgear {

// A trace file's limits: its tokens (one grid side) and its cluster counts, at most this.
constexpr int kMaxTraceBenchSize = 1 << 20;

struct TraceReadBenchOptions {
  int64_t tokens = 32760;  // Wan-1.3B at 480p
  int q_clusters = 200, k_clusters = 1000;
  int steps = 2, traces_per_step = 24;  // two layers of 12 heads per step
  uint64_t seed = 0;
  std::filesystem::path folder;  // where the file is written and removed again
  // Told each file that holds the trace's bytes while it does (the writer's temporary file, then
  // the trace), so that a second signal's forced exit can remove it (InterruptCancel): ~130 MB at
  // the defaults had stayed behind.
  std::function<void(const std::filesystem::path&)> on_file;
};

struct TraceReadBenchResult {
  TraceReadBenchOptions options;
  uint64_t bytes = 0;
  double write_s = 0.0, read_s = 0.0;
  int traces_read = 0;

  nlohmann::json to_json() const;
  std::string table() const;
};

// Cluster counts of `asked` past its tokens run as the tokens, and the result's options say so.
// Throws Cancelled when `cancel` is set (checked at each step made, written and read), with the
// file removed; a file left by a bench that was killed is removed by a later one in its folder.
TraceReadBenchResult run_trace_read_bench(const TraceReadBenchOptions& asked, const CancelToken& cancel);

}  // namespace svgear
