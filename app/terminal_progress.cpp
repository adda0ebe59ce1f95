#include "app/terminal_progress.h"

#include <algorithm>
#include <string>

#include <unistd.h>

#include "app/terminal_text.h"

namespace svgear {
namespace {

std::string format_seconds(double ms) {
  char text[32];
  const double s = ms / 1000.0;
  if (s < 60) {
    std::snprintf(text, sizeof text, "%.1fs", s);
  } else {
    std::snprintf(text, sizeof text, "%dm%02ds", int(s) / 60, int(s) % 60);
  }
  return text;
}

}  // namespace

TerminalProgress::TerminalProgress(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO)) {}

void TerminalProgress::on_step(const StepEvent& e) {
  if (quiet_) return;
  const int done = e.step + 1;
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = done * kWidth / e.num_steps;
    std::fprintf(stderr, "\r[%s%s] step %d/%d  %s/step  elapsed %s  ETA %s   ",
                 std::string(filled, '#').c_str(), std::string(kWidth - filled, '-').c_str(), done,
                 e.num_steps, format_seconds(e.step_ms).c_str(), format_seconds(e.elapsed_ms).c_str(),
                 format_seconds(e.eta_ms).c_str());
    if (done == e.num_steps) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "step %d/%d t=%.1f %s elapsed %s ETA %s\n", done, e.num_steps, e.timestep,
                 format_seconds(e.step_ms).c_str(), format_seconds(e.elapsed_ms).c_str(),
                 format_seconds(e.eta_ms).c_str());
  }
  std::fflush(stderr);
}

void TerminalProgress::on_error(const ErrorEvent& e) {
  if (tty_) std::fputc('\n', stderr);
  std::fprintf(stderr, "error: %s\n", printable(e.message).c_str());
}

void TerminalProgress::on_warning(const std::string& line) {
  if (tty_ && !quiet_) std::fputc('\n', stderr);  // after the progress bar's line
  std::fprintf(stderr, "warning: %s\n", printable(line).c_str());
  if (std::find(warnings_.begin(), warnings_.end(), line) == warnings_.end()) warnings_.push_back(line);
}

void TerminalProgress::on_log(const std::string& line) {
  if (quiet_) return;
  if (tty_) std::fputc('\n', stderr);
  std::fprintf(stderr, "%s\n", printable(line).c_str());
}

}  // namespace svgear
