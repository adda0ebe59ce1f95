#pragma once
// RoutingStep: one step's routing traces on the GUI side — the worker copies each RoutingEvent into
// one, so it can cross threads in a queued signal (RoutingEvent is plain C++: no ATen, no Qt).

#include <vector>

#include <QMetaType>

#include "core/pipeline/event_sink.h"

namespace svgear {

struct RoutingStep : RoutingEvent {
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
