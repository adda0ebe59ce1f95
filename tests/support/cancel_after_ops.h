#pragma once
// CancelAfterOps: cancels a CancelToken from inside the work it guards, at the Nth ATen operator the
// calling thread runs (an at::RecordFunction callback on this thread only), so that a test can
// cancel a load part-way through, deterministically and without a second thread. With no token it
// only counts: how many operators a whole load runs. One at a time per thread.

#include <cstdint>
#include <memory>

#include <ATen/record_function.h>

#include "core/cancel_token.h"

namespace svgear::test {

class CancelAfterOps {
 public:
  // `token` may be null (count only); it is cancelled when the `cancel_at`-th operator starts.
  CancelAfterOps(CancelToken* token, int64_t cancel_at) {
    state() = State{token, cancel_at, 0};
    handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(&on_operator));
  }
  ~CancelAfterOps() {
    at::removeCallback(handle_);
    state() = State{};
  }
  CancelAfterOps(const CancelAfterOps&) = delete;
  CancelAfterOps& operator=(const CancelAfterOps&) = delete;

  int64_t operators() const { return state().operators; }

 private:
  struct State {
    CancelToken* token = nullptr;
    int64_t cancel_at = 0;
    int64_t operators = 0;
  };
  static State& state() {
    thread_local State s;
    return s;
  }
  static std::unique_ptr<at::ObserverContext> on_operator(const at::RecordFunction&) {
    State& s = state();
    if (++s.operators == s.cancel_at && s.token) s.token->cancel();
    return nullptr;
  }

  at::CallbackHandle handle_ = 0;
};

}  // namespace svgear::test
