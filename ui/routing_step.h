#pragma once
// RoutingStep: one step's routing traces on the GUI side — the worker moves each RoutingEvent into
// one and hands it over to the GUI thread (RoutingEvent is plain C++: no ATen, no Qt).

#include <cstddef>
#include <filesystem>
#include <memory>
#include <vector>

#include <QMetaType>

#include "core/pipeline/event_sink.h"
#include "core/pipeline/routing_trace_file.h"
#include "ui/token_inspector.h"

namespace svgear {

// The head index of a layer's all-heads summary (RoutingStep::head_means).
inline constexpr int kAllHeads = -2;

struct RoutingStep : RoutingEvent {
  RoutingStep() = default;
  // Takes the event's traces and adds, per traced layer, its all-heads summary.
  explicit RoutingStep(RoutingEvent event);

  // Per traced layer, a summary over its heads (head = kAllHeads): mean density and measured
  // error, the log of the summed estimated errors (the estimate of the whole layer), the call's
  // phase times. No labels or maps: every head has its own clusters, so maps do not add up.
  std::vector<RoutingTrace> head_means;

  // The trace of (layer, head) — head kAllHeads for the summary — or nullptr when that pair was
  // not traced (a dense layer).
  const RoutingTrace* find(int layer, int head) const {
    for (const RoutingTrace& t : head == kAllHeads ? head_means : traces) {
      if (t.layer == layer && t.head == head) return &t;
    }
    return nullptr;
  }

  // Bytes of per-token and per-block detail (labels, sizes, maps, estimates): what a detail budget
  // counts. drop_detail() frees them; the scalars stay for the plots.
  size_t detail_bytes() const;
  void drop_detail();

  // The token grid the labels index, for the inspector and the underlay.
  TokenGrid3 token_grid() const { return {grid_frames, grid_height, grid_width, temporal_factor}; }

 private:
  void summarise_heads();
};

// A trace file's steps for the Routing panel (File ▸ Open routing trace), on any thread: as the
// read goes on, the oldest steps lose their detail so that what is kept fits `detail_budget` bytes
// (a Wan trace is gigabytes). The first step carries the file's run, so an export of them says what
// made them. Throws UserError as read_routing_trace does, also when `reading->stop` is set (the
// window sets it for a newer opening, a run or its close, and shows the counts meanwhile). A file
// cut short after whole steps gives those, and `cut_short` says where it breaks off.
std::vector<std::shared_ptr<RoutingStep>> read_routing_steps(const std::filesystem::path& path, size_t detail_budget,
                                                             RoutingTraceReading* reading, std::string& cut_short);

}  // namespace svgear

// How a step crosses from the worker: a Wan model's step traced in every layer and head holds
// ~0.5 GB of labels and maps, so the GUI takes it over instead of copying it.
Q_DECLARE_METATYPE(std::shared_ptr<svgear::RoutingStep>)
