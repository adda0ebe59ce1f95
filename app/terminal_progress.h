#pragma once
// TerminalProgress: prints a generation's events to stderr — a one-line progress bar with step
// time and ETA on a terminal, one line per step otherwise (logs, CI).

#include <cstdio>
#include <string>
#include <vector>

#include "core/pipeline/event_sink.h"

namespace svgear {

class TerminalProgress : public EventSink {
 public:
  explicit TerminalProgress(bool quiet);
  void on_step(const StepEvent& e) override;
  void on_error(const ErrorEvent& e) override;
  void on_log(const std::string& line) override;  // not with --quiet
  void on_warning(const std::string& line) override;  // always, as "warning: …"
  // Every warning so far, each once, for a report that must say what the terminal said.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  bool quiet_ = false;
  bool tty_ = false;
  std::vector<std::string> warnings_;
};

}  // namespace svgear
