#include "app/sigint_cancel.h"

#include <csignal>

namespace svgear {
namespace {

CancelToken* g_cancel = nullptr;

void on_interrupt(int) {
  if (g_cancel) g_cancel->cancel();
}

}  // namespace

SigintCancel::SigintCancel(CancelToken& cancel) {
  g_cancel = &cancel;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  action.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once
  sigaction(SIGINT, &action, nullptr);
}

SigintCancel::~SigintCancel() {
  signal(SIGINT, SIG_DFL);
  g_cancel = nullptr;
}

}  // namespace svgear
