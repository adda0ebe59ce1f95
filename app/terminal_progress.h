#pragma once
// TerminalProgress: prints a generation's events to stderr — a one-line progress bar with step
// time and ETA on a terminal, one line per step otherwise (logs, CI) — and the model load's parts
// before it: a percentage on a terminal, a line at each part's start and end otherwise.

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/pipeline/event_sink.h"
#include "core/weights/load_progress.h"

namespace svgear {

class TerminalProgress : public EventSink {
 public:
  explicit TerminalProgress(bool quiet);
  // Ends an open progress line: an error the caller prints next (a load that failed) starts its own.
  ~TerminalProgress() override;
  void on_step(const StepEvent& e) override;
  void on_error(const ErrorEvent& e) override;
  void on_log(const std::string& line) override;  // not with --quiet
  void on_warning(const std::string& line) override;  // always, as "warning: …"
  void on_load(const LoadStep& step);                 // ModelOptions::on_progress; not with --quiet
  // Every warning so far, each once, for a report that must say what the terminal said.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  bool quiet_ = false;
  bool tty_ = false;
  bool line_open_ = false;  // a progress line without its newline yet (a terminal's)
  bool load_part_open_ = false;  // a load's part has started and not ended
  std::chrono::steady_clock::time_point part_start_;
  std::vector<std::string> warnings_;
};

}  // namespace svgear
