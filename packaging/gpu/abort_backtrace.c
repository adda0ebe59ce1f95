// abort_backtrace: print the stack of a process that aborts or is told to (SIGABRT), for the GPU
// machine, which has no debugger. Build and preload it on the device:
//   gcc -shared -fPIC -O0 packaging/gpu/abort_backtrace.c -o /tmp/abort_backtrace.so
//   LD_PRELOAD=/tmp/abort_backtrace.so build/gpu/tests/io/io_tests 2>&1 | c++filt
//   LD_PRELOAD=/tmp/abort_backtrace.so timeout -s ABRT 60 PROGRAM   (where a program hangs)
// Only the thread that takes the signal is shown. It found the second libstdc++ of the thirty-first
// session (docs/gpu-runs.md).
#define _GNU_SOURCE
#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void print_stack_and_exit(int sig) {
  void* frames[64];
  const int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
  _exit(128 + sig);
}

__attribute__((constructor)) static void install(void) {
  // backtrace's first call loads libgcc and allocates: done here, not inside a handler that may
  // have interrupted free().
  void* warm[1];
  backtrace(warm, 1);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = print_stack_and_exit;
  action.sa_flags = SA_RESETHAND;  // a second abort in the handler ends the process as usual
  sigaction(SIGABRT, &action, NULL);
}
