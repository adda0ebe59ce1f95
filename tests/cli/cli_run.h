#pragma once
// Runs the `svgear` executable as a user would, capturing its output.

#include <cstdint>
#include <string>

#include "core/pipeline/generator.h"

namespace svgear::test {

struct CliRun {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string output;  // stdout and stderr together
  double seconds_after_signal = -1;  // from the signal of run_cli_interrupted to the exit; -1 without one
};

// `svgear <arguments>` through the shell (arguments may hold quoted words).
CliRun run_cli(const std::string& arguments);

// The same, but sends `signal` (SIGINT: Ctrl-C) once the output contains `interrupt_after`.
CliRun run_cli_interrupted(const std::string& arguments, const std::string& interrupt_after, int signal);

// The same with svgear's address space (RLIMIT_AS) limited to `bytes` more than this test process
// maps, which has loaded the same libraries (a CUDA build's take gigabytes): an allocation past it
// fails at once, as on a machine with that much memory free, whatever this machine has.
CliRun run_cli_in_memory(const std::string& arguments, uint64_t bytes);

// The same with no file svgear writes allowed past `bytes` (RLIMIT_FSIZE, SIGXFSZ ignored): a write
// past it fails as on a full disk.
CliRun run_cli_with_file_size_limit(const std::string& arguments, uint64_t bytes);

// What `svgear generate --prompt <prompt> --seed <seed> --steps <steps> --frames 5 --size 48x32`
// (the tests' tiny clip) asks of `model`, run through the Generator API without previews, as the
// CLI runs it: to compare with the CLI's output. A failed run fails the calling test.
GenerationResult generate_through_the_api(Model& model, const std::string& prompt, uint64_t seed, int steps);

}  // namespace svgear::test
