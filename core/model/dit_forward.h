#pragma once
// DiTForward: the per-call context of a DiT forward — where in the generation it runs, which
// backend computes self-attention, and the hooks (cancel, taps) the caller attached.

#include "core/attention/attention_backend.h"
#include "core/cancel_token.h"
#include "core/model/tap_sink.h"

namespace svgear {

struct DiTForward {
  AttentionBackend* attention = nullptr;  // required, used for self-attention only
  int step = 0;
  int num_steps = 0;
  CfgBranch branch = CfgBranch::Cond;
  const CancelToken* cancel = nullptr;    // polled before each block's two halves (throw_if_cancelled)
  TapSink* taps = nullptr;                // named intermediates
};

}  // namespace svgear
