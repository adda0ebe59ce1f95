#pragma once
// InterruptCancel: while one is alive, Ctrl-C (SIGINT) or SIGTERM (what `kill`, `timeout` and batch
// schedulers send) cancels a CancelToken, so a generation stops after its current step (or latent
// frame of the final decode), a training run after its step, and the command keeps what it has;
// files being written are finished. A second signal ends the process at once; a signal the process
// ignores (a background job's SIGINT) stays ignored. One at a time (the handler reaches the token
// through a global).

#include "core/cancel_token.h"

namespace svgear {

class InterruptCancel {
 public:
  explicit InterruptCancel(CancelToken& cancel);
  ~InterruptCancel();
  InterruptCancel(const InterruptCancel&) = delete;
  InterruptCancel& operator=(const InterruptCancel&) = delete;
};

}  // namespace svgear
