#pragma once
// InterruptCancel: while one is alive, Ctrl-C (SIGINT), SIGTERM (what `kill`, `timeout` and batch
// schedulers send) or SIGHUP (a closed terminal or ssh session; not under nohup) cancels a
// CancelToken, so a generation stops its current step at the next DiT block (or the final decode
// after its latent frame), a training run after its step, and the command keeps what it has;
// files being written are finished. A second signal ends the process at once, saying so; one within
// kSameEventMs of the first is taken for the same event (`timeout` signals its child and then the
// child's process group, so the child gets two within microseconds) and ignored. A signal the
// process ignores (a background job's SIGINT) stays ignored. One at a time (the handler reaches the
// token through a global).

#include "core/cancel_token.h"

namespace svgear {

class InterruptCancel {
 public:
  // Far shorter than a person's second Ctrl-C, far longer than two deliveries of one signal.
  static constexpr long kSameEventMs = 250;

  explicit InterruptCancel(CancelToken& cancel);
  ~InterruptCancel();
  InterruptCancel(const InterruptCancel&) = delete;
  InterruptCancel& operator=(const InterruptCancel&) = delete;

  // A temporary file that a second signal removes before it ends the process: an output streamed
  // through the run (generate's --trace, ~1 GB a Wan step), which the final writes would otherwise
  // leave behind. nullptr for none; `path` must stay valid until it is replaced or cleared.
  static void remove_on_forced_exit(const char* path);

  // What a command a signal cancelled exits with: 128 + the first signal's number, as a shell
  // reports a process that signal ended (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP).
  static int exit_status();
};

// While one is alive (inside an InterruptCancel's life), any of those signals waits until it ends:
// around the final writes, so that a second Ctrl-C ("stop now!") does not leave a half-written
// temporary file or staging folder behind. The writes take seconds at most (a streamed output's
// flush comes before them). One inside another holds on until the outer one ends.
class InterruptsHeld {
 public:
  InterruptsHeld();
  ~InterruptsHeld();
  InterruptsHeld(const InterruptsHeld&) = delete;
  InterruptsHeld& operator=(const InterruptsHeld&) = delete;
};

}  // namespace svgear
