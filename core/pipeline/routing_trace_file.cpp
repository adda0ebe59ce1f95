#include "core/pipeline/routing_trace_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include <nlohmann/json.hpp>

#include "core/io/bounded_json.h"
#include "core/io/json_cursor.h"
#include "core/user_error.h"

namespace svgear {

RoutingTraceFile::RoutingTraceFile(std::filesystem::path path) : file_(std::move(path)) {
  put(R"({"format":"svgear-routing-trace/1")");
}

void RoutingTraceFile::put(std::string_view text) {
  file_.write(text);
  bytes_ += text.size();
}

void RoutingTraceFile::add(const RoutingEvent& step) {
  // The first step says what made the run; its steps follow.
  if (steps_ == 0) {
    const std::string run = step.run.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    put((step.run.is_null() ? "" : R"(,"run":)" + run) + R"(,"steps":[)");
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
  put((steps_ == 0 ? "" : ",") + head + R"(,"traces":[)");
  // Trace by trace (a Wan step's traces take ~1 GB as text).
  std::string text;
  for (size_t t = 0; t < step.traces.size(); ++t) {
    text.assign(t == 0 ? "" : ",");
    append_routing_trace_json(step.traces[t], text);
    put(text);
  }
  put("]}");
  ++steps_;
  steps_without_maps_ += dropped;
}

void RoutingTraceFile::commit() { commit_as(file_.path()); }

void RoutingTraceFile::commit_as(const std::filesystem::path& other) {
  if (!closed_) put(steps_ == 0 ? ",\"steps\":[]}\n" : "]}\n");
  closed_ = true;
  file_.commit_as(other);
}

namespace {

// "27 MB", "1.02 GB": sizes in the decimal units disks are sold and df -H counts in.
std::string gigabytes(uint64_t bytes) {
  char text[32];
  const double gb = double(bytes) / 1e9;
  if (gb < 1.0) {
    std::snprintf(text, sizeof text, "%.0f MB", double(bytes) / 1e6);
  } else {
    std::snprintf(text, sizeof text, gb < 10.0 ? "%.2f GB" : "%.0f GB", gb);
  }
  return text;
}

constexpr const char* kFewer = "trace fewer layers or heads (--trace-layers, --trace-heads)";

}  // namespace

TraceSizeNote routing_trace_size_note(uint64_t step_bytes, int steps, uint64_t available) {
  const uint64_t rest = step_bytes * uint64_t(std::max(steps - 1, 0));  // the steps still to write
  const std::string size = "the routing trace takes " + gigabytes(step_bytes) + " a step, about " +
                           gigabytes(step_bytes + rest) + " for the run's " + std::to_string(steps) + " traced steps";
  if (rest + kTraceDiskReserve > available) {
    return {size + ", and its disk has " + gigabytes(available) + " free: tracing stops while " +
                gigabytes(kTraceDiskReserve) + " is left there, for the video; to trace every step, " + kFewer,
            true};
  }
  if (step_bytes + rest < uint64_t(1e9)) return {};
  if (available == UINT64_MAX) return {size};  // the file system did not say
  return {size + " (" + gigabytes(available) + " free on its disk)"};
}

std::string routing_trace_out_of_room(uint64_t step_bytes, int steps, uint64_t available) {
  if (available >= step_bytes + kTraceDiskReserve) return "";
  return "the routing trace stops after " + counted_noun(steps, "step", "steps") +
         ": its disk has " + gigabytes(available) + " free, which the video keeps (a step takes " +
         gigabytes(step_bytes) + "); the steps traced are written. To trace every step, " + kFewer;
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

// A trace as read before its step's grid (a file whose keys come reordered): checked once it is known.
struct UncheckedTrace {
  nlohmann::json fields;
  RoutingTraceArrays arrays;
};

// One step's fields, with its traces (`traces` were checked against a grid of `checked_tokens`,
// which must be the step's own; `unchecked` come after them, checked here).
RoutingEvent step_from_json(const nlohmann::json& j, std::vector<RoutingTrace>& traces, int64_t checked_tokens,
                            std::vector<UncheckedTrace>& unchecked) {
  RoutingEvent step;
  step.step = bounded_integer(j, "step", 0, kLargest);
  step.num_steps = bounded_integer(j, "num_steps", 1, kLargest);
  // Far past any DiT's (Wan 14B: 40 × 40), and small enough that a view looping over them stays quick.
  constexpr int kMostLayersOrHeads = 4096;
  step.num_layers = bounded_integer(j, "num_layers", 1, kMostLayersOrHeads);
  step.num_heads = bounded_integer(j, "num_heads", 1, kMostLayersOrHeads);
  if (step.step >= step.num_steps) {
    throw UserError("a step numbered " + std::to_string(step.step) + " lies outside its run's " +
                    counted_noun(step.num_steps, "step", "steps"));
  }
  const nlohmann::json grid = j.value("grid", nlohmann::json());
  if (!grid.is_object()) throw UserError("a step has no \"grid\" (its token grid)");
  const int64_t tokens = grid_tokens(grid);
  step.grid_frames = grid["frames"].get<int>();
  step.grid_height = grid["height"].get<int>();
  step.grid_width = grid["width"].get<int>();
  step.temporal_factor = bounded_integer(grid, "temporal_factor", 0, 64);
  if (!traces.empty() && checked_tokens != tokens) throw UserError("a step's traces were read against another grid");
  step.traces = std::move(traces);
  for (UncheckedTrace& trace : unchecked) {
    step.traces.push_back(routing_trace_from_json(trace.fields, std::move(trace.arrays), tokens));
  }
  traces.clear();
  unchecked.clear();
  std::set<std::tuple<int, int, int>> heads;  // (layer, batch, head): the views count each once
  for (const RoutingTrace& t : step.traces) {
    const std::string which = "a trace of layer " + std::to_string(t.layer) + ", head " + std::to_string(t.head);
    if (t.layer >= step.num_layers || t.head >= step.num_heads) {
      throw UserError(which + " lies outside its step's " + std::to_string(step.num_layers) + " layers × " +
                      std::to_string(step.num_heads) + " heads");
    }
    if (t.step != step.step) {
      throw UserError(which + " says step " + std::to_string(t.step) + " inside step " + std::to_string(step.step));
    }
    if (!heads.emplace(t.layer, t.batch, t.head).second) {
      throw UserError(which + (t.batch > 0 ? ", batch " + std::to_string(t.batch) : std::string()) +
                      " comes twice in step " + std::to_string(step.step));
    }
  }
  return step;
}

// Depths in the document (JsonCursor::read_value's): the top object 0, "steps" 1, a step 2, its
// "traces" 3, a trace 4, a trace's arrays 5.
constexpr int kStepDepth = 2, kTraceDepth = 4;

// An array of a trace: `on_entry` for each entry, refused once it passes `most` entries.
template <class OnEntry>
void read_trace_array(JsonCursor& cursor, const std::string& key, uint64_t most, OnEntry on_entry) {
  uint64_t count = 0;
  cursor.read_array([&] {
    if (count++ == most) {
      throw UserError("a routing trace has more than " + std::to_string(most) + " entries in \"" + key +
                      "\", the most its grid and cluster counts allow");
    }
    on_entry(cursor.read_number(kTraceDepth + 2));
  });
}

// A cluster count a trace has given before its arrays, or the most any trace may give.
int64_t clusters_given(const nlohmann::json& fields, const char* key) {
  const auto it = fields.find(key);
  const bool given = it != fields.end() && it->is_number_integer() && it->get<int64_t>() >= 1 &&
                     it->get<int64_t>() <= kMaxTraceClusters;
  return given ? it->get<int64_t>() : kMaxTraceClusters;
}

// One trace object: the arrays into typed vectors, the rest as a small tree. Each array is refused
// as it passes the length its step's grid (`tokens`, 0 before the grid) and its cluster counts give
// it, as far as they come before it (the writer puts them first): a hostile array of 50 million
// labels took 550 MB before its length was checked.
UncheckedTrace read_trace(JsonCursor& cursor, int64_t tokens) {
  UncheckedTrace trace;
  trace.fields = nlohmann::json::object();
  RoutingTraceArrays& a = trace.arrays;
  const auto most_entries = [&](const std::string& key) -> uint64_t {
    const auto qc = uint64_t(clusters_given(trace.fields, "q_clusters"));
    const auto kc = uint64_t(clusters_given(trace.fields, "k_clusters"));
    if (key == "q_labels" || key == "k_labels") return tokens > 0 ? uint64_t(tokens) : uint64_t(INT32_MAX);
    if (key == "q_sizes") return qc;
    if (key == "k_sizes") return kc;
    return qc * kc;  // block_map, block_log_error
  };
  cursor.read_object([&](const std::string& key) {
    std::optional<std::vector<int64_t>>* whole = key == "q_labels"    ? &a.q_labels
                                                 : key == "k_labels"  ? &a.k_labels
                                                 : key == "q_sizes"   ? &a.q_sizes
                                                 : key == "k_sizes"   ? &a.k_sizes
                                                 : key == "block_map" ? &a.block_map
                                                                      : nullptr;
    const bool errors = key == "block_log_error";
    const bool array = cursor.peek() == '[';
    if (array && whole) {
      std::vector<int64_t> values;
      read_trace_array(cursor, key, most_entries(key), [&](const JsonNumber& n) {
        values.push_back(n.kind == JsonNumber::Whole ? n.whole : RoutingTraceArrays::kNotWhole);
      });
      *whole = std::move(values);
    } else if (array && errors) {
      std::vector<double> values;
      read_trace_array(cursor, key, most_entries(key), [&](const JsonNumber& n) {
        a.block_log_error_has_other = a.block_log_error_has_other || n.kind == JsonNumber::Other;
        values.push_back(n.kind == JsonNumber::Null ? std::numeric_limits<double>::quiet_NaN() : n.real);
      });
      a.block_log_error = std::move(values);
    } else {
      trace.fields[key] = cursor.read_value(kTraceDepth + 1);
    }
  });
  return trace;
}

}  // namespace

nlohmann::json read_routing_trace(const std::filesystem::path& path, const std::function<void(RoutingEvent&&)>& on_step,
                                  RoutingTraceReading* reading, std::string* cut_short) {
  require_regular_file(path, "a routing trace");  // a FIFO would hold the read forever
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read '" + path.string() + "': " + std::strerror(errno));
  const auto where = [&](const std::string& what) { return UserError("'" + path.string() + "' " + what); };
  const auto check_stop = [&] {
    if (reading && reading->stop.load(std::memory_order_relaxed)) throw where("was not read to its end: the read was stopped");
  };
  // The checks of a step's fields and traces, their UserError named as the file's.
  const auto checked = [&](const auto& check) {
    try {
      return check();
    } catch (const UserError& e) {
      throw where(std::string("holds a step that cannot be shown: ") + e.what());
    }
  };
  // Walked front to back (a Wan step's traces as JSON trees would take gigabytes): each trace is
  // checked as it ends once its step's grid is known, each step handed on as it ends.
  JsonCursor cursor(in, check_stop);  // checked at every MiB read too: a huge value must not hold the read
  nlohmann::json run;
  bool format_seen = false;
  int whole_steps = 0;
  int previous_step = -1;
  const auto read_step = [&] {
    nlohmann::json fields = nlohmann::json::object();
    std::vector<RoutingTrace> traces;
    std::vector<UncheckedTrace> unchecked;
    int64_t tokens = 0;  // 0 until the step's grid is read
    cursor.read_object([&](const std::string& key) {
      if (key == "traces") {
        // The text's end left to the cursor, which says the file breaks off.
        if (const char next = cursor.peek(); next != '[' && next != '\0') {
          throw where("holds a step that cannot be shown: its \"traces\" is not a list");
        }
        cursor.read_array([&] {
          check_stop();
          if (const char next = cursor.peek(); next != '{' && next != '\0') {
            throw where("holds a step that cannot be shown: its \"traces\" holds something other than traces");
          }
          UncheckedTrace trace = checked([&] { return read_trace(cursor, tokens); });
          if (tokens > 0) {
            traces.push_back(checked([&] { return routing_trace_from_json(trace.fields, std::move(trace.arrays), tokens); }));
          } else {
            unchecked.push_back(std::move(trace));
          }
          if (reading) ++reading->traces;
        });
        return;
      }
      fields[key] = cursor.read_value(kStepDepth + 1);
      if (key == "grid") tokens = checked([&] { return grid_tokens(fields[key]); });
    });
    RoutingEvent step = checked([&] { return step_from_json(fields, traces, tokens, unchecked); });
    // As a run writes them: a hand-edited file's repeated or reordered steps had shown an older
    // step as the latest.
    if (step.step <= previous_step) {
      throw where("holds a step that cannot be shown: step " + std::to_string(step.step) + " comes after step " +
                  std::to_string(previous_step) + " (a trace's steps run in order, each once)");
    }
    previous_step = step.step;
    on_step(std::move(step));
    ++whole_steps;
    if (reading) ++reading->steps;
  };
  const auto read_top_key = [&](const std::string& key) {
    check_stop();
    if (key == "format") {
      const nlohmann::json format = cursor.read_value(1);
      if (!format.is_string() || format.get<std::string>() != kFormat) {
        std::string given = format.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (given.size() > 60) given = given.substr(0, 60) + "\u2026 (" + std::to_string(given.size()) + " bytes)";
        throw where("is not a routing trace of a known format (\"format\": " + given + ", expected \"" +
                    std::string(kFormat) + "\")");
      }
      format_seen = true;
    } else if (key == "steps") {
      if (!format_seen) throw where("is not a routing trace: its \"format\" does not come first");
      // The text's end left to the cursor, which says the file breaks off.
      if (const char next = cursor.peek(); next != '[' && next != '\0') {
        throw where("is not a routing trace: its \"steps\" is not a list");
      }
      cursor.read_array([&] {
        check_stop();
        if (const char next = cursor.peek(); next != '{' && next != '\0') {
          throw where("is not a routing trace: its \"steps\" holds something other than steps");
        }
        read_step();
      });
    } else if (key == "run") {
      run = cursor.read_value(1);
    } else {
      cursor.skip_value(1);  // another top-level value: read past, not kept
    }
  };
  try {
    if (cursor.peek() == '{') {
      cursor.read_object(read_top_key);
    } else {
      cursor.skip_value(0);  // not an object: no "format", said below
    }
    cursor.expect_end();
  } catch (const nlohmann::json::exception& e) {
    if (cut_short && whole_steps > 0 && cursor.at_end()) {
      *cut_short = "'" + path.string() + "' breaks off after " + std::to_string(whole_steps) + " whole step" +
                   (whole_steps == 1 ? "" : "s") + ": the rest of the file is missing (a copy cut short?)";
      return run;
    }
    throw where(std::string("is not complete, valid JSON (") + json_error_text(e) + ")");
  }
  if (!format_seen) throw where("is not a routing trace (no \"format\": \"" + std::string(kFormat) + "\")");
  return run;
}

}  // namespace svgear
