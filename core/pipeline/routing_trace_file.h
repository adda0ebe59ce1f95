#pragma once
// RoutingTraceFile: a run's routing as one JSON document, "svgear-routing-trace/1", written step by
// step as the steps come, so that a Wan run traced in every layer and head (~0.5 GB of labels and
// maps per step) never has to be held whole, and atomically: readers find the previous file or
// the complete new one. `svgear generate --trace` streams a generation into one; the studio's
// Export routing trace writes the steps its Routing panel holds.
//
//   {"format": "svgear-routing-trace/1",
//    "run": {"model", "request"},      // the first step's RoutingEvent::run, when it has one
//    "steps": [{"step", "num_steps", "num_layers", "num_heads",
//               "grid": {"frames", "height", "width", "temporal_factor"},
//               "maps_dropped",            // some trace of this step lacks its labels and maps
//               "traces": [append_routing_trace_json(trace), ...]}, ...]}

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/pipeline/event_sink.h"

namespace svgear {

class RoutingTraceFile {
 public:
  // Starts the temporary file beside `path`; throws UserError when the folder takes no file.
  explicit RoutingTraceFile(std::filesystem::path path);

  // Appends one step (throws UserError when the disk is full).
  void add(const RoutingEvent& step);
  // Closes the document and puts it in place: at the path given, or at `other` in the same folder
  // (a cancelled run's "-partial" name). Without a commit nothing is left behind.
  void commit();
  void commit_as(const std::filesystem::path& other);

  int steps() const { return steps_; }
  uint64_t bytes() const { return bytes_; }  // written so far
  int steps_without_maps() const { return steps_without_maps_; }
  // Where the bytes go until the commit (for InterruptCancel::remove_on_forced_exit).
  const std::filesystem::path& temp_path() const { return file_.temp_path(); }

 private:
  void put(std::string_view text);

  AtomicFile file_;
  uint64_t bytes_ = 0;
  int steps_ = 0;
  int steps_without_maps_ = 0;
  bool closed_ = false;  // the end is written once: a name refused by commit_as leaves a commit() to try
};

// A trace written while a run goes on leaves its disk this much for the run's video and record.
inline constexpr uint64_t kTraceDiskReserve = 1000000000;  // 1 GB

// What to say once the first traced step is written (`step_bytes` of it, `steps` traced in all
// with it, `available` bytes free on the trace's disk after it, UINT64_MAX when the file system
// cannot say): a warning when the trace would
// not fit above kTraceDiskReserve, a note when it will take a gigabyte or more, else no text.
struct TraceSizeNote {
  std::string text;
  bool wont_fit = false;
};
TraceSizeNote routing_trace_size_note(uint64_t step_bytes, int steps, uint64_t available);

// The warning a trace stopped for room gives, or nothing while the next step (`step_bytes`, as the
// last one) fits above kTraceDiskReserve in `available` bytes; `steps` are written.
std::string routing_trace_out_of_room(uint64_t step_bytes, int steps, uint64_t available);

// Shared between a read_routing_trace under way and whoever watches it (the studio's status line):
// set `stop` to end the read; `steps` and `traces` count what has been read.
struct RoutingTraceReading {
  std::atomic<bool> stop{false};
  std::atomic<int> steps{0};
  std::atomic<int64_t> traces{0};  // a Wan step holds up to 348: the count moves within a step
};

// Reads a trace file back (the studio's File ▸ Open routing trace): each step to `on_step` as it
// is read, so a trace of gigabytes takes the memory of what `on_step` keeps, not of a JSON tree.
// Returns the file's "run" (null when it has none). Throws UserError naming the file: not a routing
// trace, JSON that breaks off or is malformed, a step or trace that fails the checks of
// routing_trace_from_json (labels past their clusters, maps of the wrong size, …), a step whose
// traces were read against another grid than its own, or `reading->stop` set. With `cut_short`,
// a file that breaks off at its end after whole steps (a copy or download cut short) is read as far
// as they go: `*cut_short` then says so, and the steps before the cut have reached `on_step`.
nlohmann::json read_routing_trace(const std::filesystem::path& path, const std::function<void(RoutingEvent&&)>& on_step,
                                  RoutingTraceReading* reading = nullptr, std::string* cut_short = nullptr);

}  // namespace svgear
