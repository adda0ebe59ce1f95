#include "app/interrupt_cancel.h"

#include <csignal>

namespace svgear {
namespace {

CancelToken* g_cancel = nullptr;

void set_handler(void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  for (int signal : {SIGINT, SIGTERM}) sigaction(signal, &action, nullptr);
}

void on_interrupt(int) {
  if (g_cancel) g_cancel->cancel();
  set_handler(SIG_DFL);  // the next SIGINT or SIGTERM ends the process at once (sigaction is async-signal-safe)
}

}  // namespace

InterruptCancel::InterruptCancel(CancelToken& cancel) {
  g_cancel = &cancel;
  set_handler(on_interrupt);
}

InterruptCancel::~InterruptCancel() {
  set_handler(SIG_DFL);
  g_cancel = nullptr;
}

}  // namespace svgear
