#include "core/bench/trace_read_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string_view>
#include <system_error>

#include "core/io/atomic_file.h"
#include "core/io/unique_name.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/routing_trace_file.h"
#include "core/user_error.h"

namespace svgear {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A trace as a sparse call records it: random labels (their sizes counted from them), a fifth of the
// blocks computed, log error estimates around −3.
RoutingTrace synthetic_trace(const TraceReadBenchOptions& o, int step, int index, std::mt19937_64& rng) {
  RoutingTrace t;
  t.step = step;
  t.layer = 1 + index / 12;
  t.head = index % 12;
  t.q_clusters = o.q_clusters;
  t.k_clusters = o.k_clusters;
  t.q_sizes.assign(size_t(o.q_clusters), 0);
  t.k_sizes.assign(size_t(o.k_clusters), 0);
  t.q_labels.resize(size_t(o.tokens));
  t.k_labels.resize(size_t(o.tokens));
  for (int64_t i = 0; i < o.tokens; ++i) {
    t.q_labels[size_t(i)] = int32_t(rng() % uint64_t(o.q_clusters));
    t.k_labels[size_t(i)] = int32_t(rng() % uint64_t(o.k_clusters));
    ++t.q_sizes[size_t(t.q_labels[size_t(i)])];
    ++t.k_sizes[size_t(t.k_labels[size_t(i)])];
  }
  const size_t blocks = size_t(o.q_clusters) * size_t(o.k_clusters);
  std::normal_distribution<float> log_error(-3.0f, 2.0f);
  t.block_map.resize(blocks);
  t.block_log_error.resize(blocks);
  for (size_t b = 0; b < blocks; ++b) {
    t.block_map[b] = rng() % 5 == 0;
    t.block_log_error[b] = log_error(rng);
  }
  t.density = 0.2;
  t.estimated_log_error = 1.5;
  t.kmeans_ms = t.probe_ms = t.routing_ms = t.attention_ms = 1.0;
  return t;
}

}  // namespace

TraceReadBenchResult run_trace_read_bench(const TraceReadBenchOptions& asked, const CancelToken& cancel) {
  // Checked before anything is written.
  if (asked.tokens < 1 || asked.tokens > kMaxTraceBenchSize || asked.q_clusters < 1 ||
      asked.q_clusters > kMaxTraceBenchSize || asked.k_clusters < 1 || asked.k_clusters > kMaxTraceBenchSize ||
      asked.steps < 1 || asked.traces_per_step < 1) {
    throw UserError("bench trace: tokens and clusters must be from 1 to 1048576, steps and traces at least 1");
  }
  // More clusters than tokens are one per token, as a sparse call clusters them (centroid_cache.cpp):
  // a trace never holds more, and the result names the counts it wrote.
  TraceReadBenchOptions options = asked;
  options.q_clusters = int(std::min<int64_t>(options.q_clusters, options.tokens));
  options.k_clusters = int(std::min<int64_t>(options.k_clusters, options.tokens));
  // One step's traces are held until written: labels, sizes, and a byte and a float per block.
  const double held = double(options.traces_per_step) *
                      (8.0 * double(options.tokens) + 8.0 * (options.q_clusters + options.k_clusters) +
                       5.0 * double(options.q_clusters) * double(options.k_clusters));
  if (const auto available = available_host_memory(); available && held > 0.5 * double(*available)) {
    char message[200];
    std::snprintf(message, sizeof message,
                  "bench trace: a step's traces would take %.1f GiB of memory before they are written, more than "
                  "half of the %.1f GiB available; choose fewer traces, tokens or clusters",
                  held / double(1 << 30), double(*available) / double(1 << 30));
    throw UserError(message);
  }
  TraceReadBenchResult result;
  result.options = options;
  // The file in a folder of its own, which a bench killed before it removed it leaves for a later one
  // to remove (unique_name.h).
  constexpr std::string_view kPrefix = "svgear-bench-trace-";
  check_output_folder(options.folder);  // says why a folder refuses (/proc's errno reads "no such file")
  remove_abandoned(options.folder, kPrefix);
  std::error_code ec;
  const std::filesystem::path folder = create_unique_folder(options.folder, kPrefix, ec);
  if (ec) throw UserError("bench trace: cannot write in '" + options.folder.string() + "': " + ec.message());
  const RemovedAtScopeEnd remove{folder};
  const std::filesystem::path path = folder / "trace.json";
  std::mt19937_64 rng(options.seed);
  {
    // Each step is made, then written, as a run writes its steps: the write's time is the adds'
    // and the commit's alone, and memory holds one step (all of them had held gigabytes).
    RoutingTraceFile file(path);
    if (options.on_file) options.on_file(file.temp_path());
    for (int s = 0; s < options.steps; ++s) {
      RoutingEvent step;
      step.step = s;
      step.num_steps = 50;
      step.num_layers = 30;
      step.num_heads = 12;
      step.grid_frames = 1;
      step.grid_height = 1;
      step.grid_width = int(options.tokens);
      for (int t = 0; t < options.traces_per_step; ++t) step.traces.push_back(synthetic_trace(options, s, t, rng));
      cancel.throw_if_cancelled();
      const auto add_start = Clock::now();
      file.add(step);
      result.write_s += seconds_since(add_start);
    }
    const auto commit_start = Clock::now();
    file.commit();
    result.write_s += seconds_since(commit_start);
    if (options.on_file) options.on_file(path);
  }
  result.bytes = std::filesystem::file_size(path);
  const auto read_start = Clock::now();
  read_routing_trace(path, [&](RoutingEvent&& step) {
    result.traces_read += int(step.traces.size());
    cancel.throw_if_cancelled();
  });
  result.read_s = seconds_since(read_start);
  return result;
}

nlohmann::json TraceReadBenchResult::to_json() const {
  const double gb = double(bytes) / 1e9;
  return {{"tokens", options.tokens},          {"q_clusters", options.q_clusters},
          {"k_clusters", options.k_clusters},  {"steps", options.steps},
          {"traces_per_step", options.traces_per_step}, {"seed", options.seed},
          {"traces", traces_read},             {"bytes", bytes},
          {"write_s", write_s},                {"read_s", read_s},
          {"write_s_per_gb", write_s / gb},    {"read_s_per_gb", read_s / gb}};
}

std::string TraceReadBenchResult::table() const {
  const double gb = double(bytes) / 1e9;
  char text[512];
  std::snprintf(text, sizeof text,
                "routing trace: %d trace%s of %lld token%s, %d x %d clusters, %.1f MB\n"
                "%-6s %10s %10s\n%-6s %10.2f %10.2f\n%-6s %10.2f %10.2f\n",
                traces_read, traces_read == 1 ? "" : "s", static_cast<long long>(options.tokens),
                options.tokens == 1 ? "" : "s", options.q_clusters, options.k_clusters,
                double(bytes) / 1e6, "", "s", "s per GB", "write", write_s, write_s / gb, "read", read_s, read_s / gb);
  return text;
}

}  // namespace svgear
