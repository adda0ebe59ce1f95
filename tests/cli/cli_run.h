#pragma once
// Runs the `svgear` executable as a user would, capturing its output.

#include <string>

namespace svgear::test {

struct CliRun {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string output;  // stdout and stderr together
};

// `svgear <arguments>` through the shell (arguments may hold quoted words).
CliRun run_cli(const std::string& arguments);

// The same, but sends `signal` (SIGINT: Ctrl-C) once the output contains `interrupt_after`.
CliRun run_cli_interrupted(const std::string& arguments, const std::string& interrupt_after, int signal);

}  // namespace svgear::test
