#include "app/interrupt_cancel.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>

#include <unistd.h>

namespace svgear {
namespace {

// SIGHUP: the terminal or the ssh session closed, which must not tear the outputs either.
constexpr int kCount = 3;
constexpr int kSignals[kCount] = {SIGINT, SIGTERM, SIGHUP};
std::atomic<CancelToken*> g_cancel{nullptr};  // lock-free: the handler may read it on any thread
struct sigaction g_previous[kCount];            // what each signal did before, restored at the end
bool g_installed[kCount] = {};                  // not where it was ignored (a background job's SIGINT)
std::atomic<int> g_holding{0};                  // InterruptsHeld alive (nested ones count)
std::atomic<int> g_held{0};                     // the signal that came meanwhile, 0 for none
std::atomic<bool> g_first_seen{false};          // the token was cancelled by a signal
std::atomic<int> g_first_signal{0};             // which one, for the exit status
std::atomic<const char*> g_remove{nullptr};     // remove_on_forced_exit's file
std::atomic<long long> g_first_ms{0};           // when the first signal came (CLOCK_MONOTONIC)

long long monotonic_ms() {  // async-signal-safe
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void set_handlers(void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  action.sa_flags = SA_RESTART;  // a write the signal interrupts carries on
  for (int i = 0; i < kCount; ++i) {
    if (g_installed[i]) sigaction(kSignals[i], &action, nullptr);  // async-signal-safe
  }
}

// The second signal outside the writes: the streamed file goes, then the signal's default action
// ends the process as it would have, after a line that says why nothing more comes.
void on_forced_exit(int signal) {
  if (monotonic_ms() - g_first_ms.load() < InterruptCancel::kSameEventMs) return;  // the first, delivered twice
  if (const char* path = g_remove.load()) ::unlink(path);  // async-signal-safe
  static constexpr char kStopped[] = "\nstopped at once by a second signal: nothing more is kept\n";
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, kStopped, sizeof kStopped - 1);
  set_handlers(SIG_DFL);
  std::raise(signal);
}

void on_interrupt(int signal) {
  if (g_holding.load() > 0) {  // the files being written are finished first
    int none = 0;
    g_held.compare_exchange_strong(none, signal);  // the first, which the exit status names
    return;
  }
  if (CancelToken* cancel = g_cancel.load()) cancel->cancel();
  g_first_ms = monotonic_ms();
  g_first_seen = true;
  int none = 0;
  g_first_signal.compare_exchange_strong(none, signal);
  set_handlers(on_forced_exit);  // the next signal ends the process at once
}

}  // namespace

InterruptCancel::InterruptCancel(CancelToken& cancel) {
  g_cancel = &cancel;
  g_first_seen = false;
  g_first_signal = 0;
  for (int i = 0; i < kCount; ++i) {
    sigaction(kSignals[i], nullptr, &g_previous[i]);
    g_installed[i] = g_previous[i].sa_handler != SIG_IGN;
  }
  set_handlers(on_interrupt);
}

InterruptCancel::~InterruptCancel() {
  for (int i = 0; i < kCount; ++i) {
    if (g_installed[i]) sigaction(kSignals[i], &g_previous[i], nullptr);
    g_installed[i] = false;  // an InterruptsHeld after this one touches no handler
  }
  g_cancel = nullptr;
  g_remove = nullptr;
}

InterruptsHeld::InterruptsHeld() {
  // Cleared before the hold begins: a signal from then on is held, not cleared with an earlier one.
  // Holds are made on one thread; the handler only reads the count.
  if (g_holding.load() == 0) g_held = 0;
  if (g_holding.fetch_add(1) > 0) return;  // inside another: the outermost ends the hold
  set_handlers(on_interrupt);  // after a first signal they were the default action
}

void InterruptCancel::remove_on_forced_exit(const char* path) { g_remove = path; }

int InterruptCancel::exit_status() {
  const int signal = g_first_signal.load();
  return 128 + (signal ? signal : SIGINT);
}

InterruptsHeld::~InterruptsHeld() {
  if (g_holding.fetch_sub(1) > 1) return;
  set_handlers(g_first_seen ? on_forced_exit : on_interrupt);
  // As if it came now: a first one cancels (too late to matter), a second ends the process. A
  // signal's end flushes no stdio buffer: what the writes printed ("wrote …" to a pipe, as in
  // `svgear generate … | tee log`) goes out first.
  if (const int signal = g_held.exchange(0)) {
    std::fflush(nullptr);
    std::raise(signal);
  }
}

}  // namespace svgear
