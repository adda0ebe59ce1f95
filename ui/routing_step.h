#pragma once
// RoutingStep: one step's routing traces on the GUI side — the worker copies each RoutingEvent into
// one, so it can cross threads in a queued signal. RoutingTrace is plain C++ (no ATen, no Qt).

#include <vector>

#include <QMetaType>

#include "core/attention/routing_trace.h"

namespace svgear {

struct RoutingStep {
  int step = 0;
  int num_steps = 0;
  int num_layers = 0;
  int num_heads = 0;
  // token = (frame · grid_height + row) · grid_width + column
  int grid_frames = 0;
  int grid_height = 0;
  int grid_width = 0;
  std::vector<RoutingTrace> traces;  // one per traced (layer, head), layer-major

  // The trace of (layer, head), or nullptr when that pair was not traced (a dense layer).
  const RoutingTrace* find(int layer, int head) const {
    for (const RoutingTrace& t : traces) {
      if (t.layer == layer && t.head == head) return &t;
    }
    return nullptr;
  }
};

}  // namespace svgear

Q_DECLARE_METATYPE(svgear::RoutingStep)
