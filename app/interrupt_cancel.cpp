#include "app/interrupt_cancel.h"

#include <atomic>
#include <csignal>

namespace svgear {
namespace {

constexpr int kCount = 2;
constexpr int kSignals[kCount] = {SIGINT, SIGTERM};
std::atomic<CancelToken*> g_cancel{nullptr};  // lock-free: the handler may read it on any thread
struct sigaction g_previous[kCount];            // what each signal did before, restored at the end
bool g_installed[kCount] = {};                  // not where it was ignored (a background job's SIGINT)

void on_interrupt(int) {
  if (CancelToken* cancel = g_cancel.load()) cancel->cancel();
  // The next SIGINT or SIGTERM ends the process at once (sigaction is async-signal-safe).
  struct sigaction stop {};
  stop.sa_handler = SIG_DFL;
  for (int i = 0; i < kCount; ++i) {
    if (g_installed[i]) sigaction(kSignals[i], &stop, nullptr);
  }
}

}  // namespace

InterruptCancel::InterruptCancel(CancelToken& cancel) {
  g_cancel = &cancel;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  action.sa_flags = SA_RESTART;  // a write the signal interrupts carries on
  for (int i = 0; i < kCount; ++i) {
    sigaction(kSignals[i], nullptr, &g_previous[i]);
    g_installed[i] = g_previous[i].sa_handler != SIG_IGN;
    if (g_installed[i]) sigaction(kSignals[i], &action, nullptr);
  }
}

InterruptCancel::~InterruptCancel() {
  for (int i = 0; i < kCount; ++i) {
    if (g_installed[i]) sigaction(kSignals[i], &g_previous[i], nullptr);
  }
  g_cancel = nullptr;
}

}  // namespace svgear
