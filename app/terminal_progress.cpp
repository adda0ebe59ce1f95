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

std::string format_bytes(int64_t bytes) {
  char text[32];
  if (bytes >= int64_t(1) << 30) {
    std::snprintf(text, sizeof text, "%.1f GiB", double(bytes) / double(int64_t(1) << 30));
  } else if (bytes >= 1 << 20) {
    std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / double(1 << 20));
  } else {
    std::snprintf(text, sizeof text, "%.0f KiB", double(bytes) / 1024.0);
  }
  return text;
}

}  // namespace

TerminalProgress::TerminalProgress(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO)) {}

TerminalProgress::~TerminalProgress() {
  if (line_open_) std::fputc('\n', stderr);
}

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
    line_open_ = done != e.num_steps;
  } else {
    std::fprintf(stderr, "step %d/%d t=%.1f %s elapsed %s ETA %s\n", done, e.num_steps, e.timestep,
                 format_seconds(e.step_ms).c_str(), format_seconds(e.elapsed_ms).c_str(),
                 format_seconds(e.eta_ms).c_str());
  }
  std::fflush(stderr);
}

void TerminalProgress::on_load(const LoadStep& step) {
  if (quiet_) return;
  // LoadProgress reports a part's start and end apart, also for a part of no bytes.
  const bool start = !load_part_open_, end = !start && step.done == step.total;
  load_part_open_ = !end;
  if (start) part_start_ = std::chrono::steady_clock::now();
  const std::string what = "loading the " + step.part + " (" + format_bytes(step.total) + ")";
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - part_start_).count();
  if (tty_) {
    if (end) {
      std::fprintf(stderr, "\r%s: done in %s   \n", what.c_str(), format_seconds(ms).c_str());
    } else {
      const int percent = step.total > 0 ? int(100 * double(step.done) / double(step.total)) : 0;
      std::fprintf(stderr, "\r%s: %d%%", what.c_str(), percent);
    }
    line_open_ = !end;
  } else if (end) {
    std::fprintf(stderr, "loaded the %s in %s\n", step.part.c_str(), format_seconds(ms).c_str());
  } else if (start) {
    std::fprintf(stderr, "%s…\n", what.c_str());
  }
  std::fflush(stderr);
}

void TerminalProgress::on_error(const ErrorEvent& e) {
  if (line_open_) std::fputc('\n', stderr);
  line_open_ = false;
  std::fprintf(stderr, "error: %s\n", printable(e.message).c_str());
}

void TerminalProgress::on_warning(const std::string& line) {
  if (line_open_) std::fputc('\n', stderr);  // after the progress bar's line
  line_open_ = false;
  std::fprintf(stderr, "warning: %s\n", printable(line).c_str());
  if (std::find(warnings_.begin(), warnings_.end(), line) == warnings_.end()) warnings_.push_back(line);
}

void TerminalProgress::on_log(const std::string& line) {
  if (quiet_) return;
  if (line_open_) std::fputc('\n', stderr);
  line_open_ = false;
  std::fprintf(stderr, "%s\n", printable(line).c_str());
}

}  // namespace svgear
