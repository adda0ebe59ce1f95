#include "core/pipeline/routing_trace_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/io/bounded_json.h"
#include "core/user_error.h"

namespace svgear {

RoutingTraceFile::RoutingTraceFile(std::filesystem::path path) : file_(std::move(path)) {
  file_.write(R"({"format":"svgear-routing-trace/1")");
}

void RoutingTraceFile::add(const RoutingEvent& step) {
  // The first step says what made the run; its steps follow.
  if (steps_ == 0) {
    const std::string run = step.run.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    file_.write((step.run.is_null() ? "" : R"(,"run":)" + run) + R"(,"steps":[)");
  }
  bool dropped = false;
  for (const RoutingTrace& trace : step.traces) dropped = dropped || trace.block_map.empty();
  std::string head = nlohmann::json{{"step", step.step},
                                    {"num_steps", step.num_steps},
                                    {"num_layers", step.num_layers},
                                    {"num_heads", step.num_heads},
                                    {"grid",
                                     {{"frames", step.grid_frames},
                                      {"height", step.grid_height},
                                      {"width", step.grid_width},
                                      {"temporal_factor", step.temporal_factor}}},
                                    {"maps_dropped", dropped}}
                         .dump();
  head.pop_back();  // the closing brace: the traces follow
  file_.write((steps_ == 0 ? "" : ",") + head + R"(,"traces":[)");
  // Trace by trace (a Wan step's traces take ~1 GB as text).
  std::string text;
  for (size_t t = 0; t < step.traces.size(); ++t) {
    text.assign(t == 0 ? "" : ",");
    append_routing_trace_json(step.traces[t], text);
    file_.write(text);
  }
  file_.write("]}");
  ++steps_;
  steps_without_maps_ += dropped;
}

void RoutingTraceFile::commit() { commit_as(file_.path()); }

void RoutingTraceFile::commit_as(const std::filesystem::path& other) {
  if (!closed_) file_.write(steps_ == 0 ? ",\"steps\":[]}\n" : "]}\n");
  closed_ = true;
  file_.commit_as(other);
}

namespace {

constexpr std::string_view kFormat = "svgear-routing-trace/1";

int bounded_integer(const nlohmann::json& object, const char* key, int low, int high) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number_integer() ||
      object[key].get<int64_t>() < low || object[key].get<int64_t>() > high) {
    throw UserError(std::string("a step's \"") + key + "\" is not a whole number from " + std::to_string(low) + " to " +
                    std::to_string(high));
  }
  return int(object[key].get<int64_t>());
}

constexpr int kLargest = 1 << 20;

// The tokens of a step's "grid", which its traces' labels index.
int64_t grid_tokens(const nlohmann::json& grid) {
  const int64_t tokens = int64_t(bounded_integer(grid, "frames", 1, kLargest)) * bounded_integer(grid, "height", 1, kLargest) *
                         bounded_integer(grid, "width", 1, kLargest);
  if (tokens >= (int64_t(1) << 31)) throw UserError("a step's token grid holds 2^31 tokens or more");
  return tokens;
}

// One step's fields, with its traces (read one by one before the step ended; `traces` were
// checked against a grid of `checked_tokens`, which must be the step's own).
RoutingEvent step_from_json(const nlohmann::json& j, std::vector<RoutingTrace>& traces, int64_t checked_tokens,
                            std::vector<nlohmann::json>& unread_traces) {
  RoutingEvent step;
  step.step = bounded_integer(j, "step", 0, kLargest);
  step.num_steps = bounded_integer(j, "num_steps", 1, kLargest);
  step.num_layers = bounded_integer(j, "num_layers", 1, kLargest);
  step.num_heads = bounded_integer(j, "num_heads", 1, kLargest);
  const nlohmann::json grid = j.value("grid", nlohmann::json());
  const int64_t tokens = grid_tokens(grid);
  step.grid_frames = grid["frames"].get<int>();
  step.grid_height = grid["height"].get<int>();
  step.grid_width = grid["width"].get<int>();
  step.temporal_factor = bounded_integer(grid, "temporal_factor", 0, 64);
  if (!traces.empty() && checked_tokens != tokens) throw UserError("a step's traces were read against another grid");
  step.traces = std::move(traces);
  for (const nlohmann::json& trace : unread_traces) step.traces.push_back(routing_trace_from_json(trace, tokens));
  traces.clear();
  unread_traces.clear();
  return step;
}

}  // namespace

nlohmann::json read_routing_trace(const std::filesystem::path& path, const std::function<void(RoutingEvent&&)>& on_step,
                                  RoutingTraceReading* reading) {
  require_regular_file(path, "a routing trace");  // a FIFO would hold the read forever
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read '" + path.string() + "': " + std::strerror(errno));
  const auto where = [&](const std::string& what) { return UserError("'" + path.string() + "' " + what); };
  // The parser's callback sees every value with its depth: top-level keys at 1, steps at 2, their
  // keys at 3, traces at 4. Steps and traces are taken out of the tree as they end.
  std::string top_key, step_key;
  bool format_seen = false;
  // A step's traces, read as they end: as RoutingTraces once its grid is known (a Wan step's
  // traces as JSON trees would take gigabytes), as JSON before (a file whose keys come reordered).
  std::vector<RoutingTrace> traces;
  std::vector<nlohmann::json> unread_traces;
  int64_t tokens = 0;  // of the step being read; 0 until its grid ends
  const auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (reading && reading->stop.load(std::memory_order_relaxed)) {
      throw where("was not read to its end: the read was stopped");
    }
    if (event == Event::key && depth == 1) top_key = parsed.get<std::string>();
    if (event == Event::key && depth == 3) step_key = parsed.get<std::string>();
    if (event == Event::value && depth == 1 && top_key == "format") {
      if (!parsed.is_string() || parsed.get<std::string>() != kFormat) {
        throw where("is not a routing trace of a known format (\"format\": " + parsed.dump() + ", expected \"" +
                    std::string(kFormat) + "\")");
      }
      format_seen = true;
    }
    if (depth >= 1 && top_key != "format" && top_key != "run" && top_key != "steps") {
      return depth > 1 || event == Event::key;  // another top-level value: read past, not kept
    }
    if (top_key != "steps") return true;
    if (!format_seen) throw where("is not a routing trace: its \"format\" does not come first");
    if (depth == 1 && (event == Event::value || event == Event::object_start)) {
      throw where("is not a routing trace: its \"steps\" is not a list");
    }
    if (depth == 2 && event != Event::object_start && event != Event::object_end) {
      throw where("is not a routing trace: its \"steps\" holds something other than steps");
    }
    if (event == Event::object_start && depth == 2) {  // a new step: nothing of the last one carries over
      step_key.clear();
      tokens = 0;
      traces.clear();
      unread_traces.clear();
    }
    try {
      if (event == Event::object_end && depth == 3 && step_key == "grid") {
        if (tokens > 0) throw UserError("a step has two grids");
        tokens = grid_tokens(parsed);
      }
      if (event == Event::object_end && depth == 4 && step_key == "traces") {
        if (tokens > 0) {
          traces.push_back(routing_trace_from_json(parsed, tokens));
        } else {
          unread_traces.push_back(std::move(parsed));
        }
        if (reading) ++reading->traces;
        return false;
      }
      if (event == Event::object_end && depth == 2) {
        on_step(step_from_json(parsed, traces, tokens, unread_traces));
        if (reading) ++reading->steps;
        return false;
      }
    } catch (const UserError& e) {
      throw where(std::string("holds a step that cannot be shown: ") + e.what());
    }
    return true;
  };
  nlohmann::json root;
  try {
    root = parse_bounded_json(in, callback);
  } catch (const nlohmann::json::exception& e) {
    throw where(std::string("is not complete, valid JSON (") + e.what() + ")");
  }
  if (!root.is_object() || !format_seen) throw where("is not a routing trace (no \"format\": \"" + std::string(kFormat) + "\")");
  return root.value("run", nlohmann::json());
}

}  // namespace svgear
