#pragma once
// SigintCancel: while one is alive, Ctrl-C cancels a CancelToken, so a generation stops after its
// current step (or latent frame of the final decode) and the command can keep what it has; a second
// Ctrl-C ends the process at once. One at a time (the handler reaches the token through a global).

#include "core/cancel_token.h"

namespace svgear {

class SigintCancel {
 public:
  explicit SigintCancel(CancelToken& cancel);
  ~SigintCancel();
  SigintCancel(const SigintCancel&) = delete;
  SigintCancel& operator=(const SigintCancel&) = delete;
};

}  // namespace svgear
