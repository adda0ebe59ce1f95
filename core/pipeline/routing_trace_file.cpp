#include "core/pipeline/routing_trace_file.h"

#include <string>

#include <nlohmann/json.hpp>

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
  // Trace by trace: as one JSON tree, a step's labels and maps would take tens of bytes a value.
  for (size_t t = 0; t < step.traces.size(); ++t) {
    file_.write((t == 0 ? "" : ",") + routing_trace_to_json(step.traces[t]).dump());
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

}  // namespace svgear
