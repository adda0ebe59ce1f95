#include "tests/ui/test_display.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>

namespace svgear::test {
namespace {

constexpr int kStartTimeoutMs = 15000;

}  // namespace

TestDisplay::TestDisplay() {
  setenv("QT_QPA_PLATFORM", "xcb", 1);
  const char* existing = std::getenv("DISPLAY");
  if (existing && *existing) {
    display_ = existing;
    return;
  }
  int fds[2];
  if (pipe(fds) != 0) return;
  xvfb_ = fork();
  if (xvfb_ < 0) return;
  if (xvfb_ == 0) {
    // Xvfb dies with the test even when the test crashes.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    close(fds[0]);
    const int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    // -displayfd: Xvfb picks a free display number and writes it to the pipe once it accepts
    // connections, so parallel tests never race for a number.
    const std::string fd = std::to_string(fds[1]);
    execlp("Xvfb", "Xvfb", "-displayfd", fd.c_str(), "-screen", "0", "1600x1000x24", "-nolisten", "tcp",
           static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string number;
  pollfd p{fds[0], POLLIN, 0};
  char c = 0;
  while (poll(&p, 1, kStartTimeoutMs) > 0 && read(fds[0], &c, 1) == 1 && c != '\n') number += c;
  close(fds[0]);
  if (number.empty()) {
    stop();
    return;
  }
  display_ = ":" + number;
  setenv("DISPLAY", display_.c_str(), 1);
}

TestDisplay::~TestDisplay() { stop(); }

void TestDisplay::stop() {
  if (xvfb_ <= 0) return;
  kill(xvfb_, SIGTERM);
  waitpid(xvfb_, nullptr, 0);
  xvfb_ = -1;
}

}  // namespace svgear::test
