#include "tests/cli/cli_run.h"

#include <chrono>
#include <csignal>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_paths.h"

namespace svgear::test {
namespace {

// `address_space`, `file_size`: the child's RLIMIT_AS and RLIMIT_FSIZE in bytes, 0 for none.
CliRun run_svgear(const std::string& arguments, const std::string& interrupt_after, int signal,
                  uint64_t address_space, uint64_t file_size = 0) {
  CliRun run;
  int fds[2];
  if (::pipe(fds) != 0) return run;
  // `exec` makes the shell become svgear, so the pid we signal is svgear's own.
  std::string command = "exec ";
  command.append(SVGEAR_CLI_PATH).append(" ").append(arguments);
  const pid_t pid = ::fork();
  if (pid < 0) return run;
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    rlimit limit{};
    if (address_space > 0 && ::getrlimit(RLIMIT_AS, &limit) == 0 && rlim_t(address_space) < limit.rlim_max) {
      limit.rlim_cur = rlim_t(address_space);  // the soft limit: lowering it needs no privilege
      if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(127);
    }
    if (file_size > 0 && ::getrlimit(RLIMIT_FSIZE, &limit) == 0 && rlim_t(file_size) < limit.rlim_max) {
      limit.rlim_cur = rlim_t(file_size);
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(127);
      ::signal(SIGXFSZ, SIG_IGN);  // kept across exec: a write past the limit fails (EFBIG), as on a full disk
    }
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  bool interrupted = interrupt_after.empty();
  std::chrono::steady_clock::time_point signalled;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) {
    run.output.append(buffer, size_t(n));
    if (!interrupted && run.output.find(interrupt_after) != std::string::npos) {
      ::kill(pid, signal);
      signalled = std::chrono::steady_clock::now();
      interrupted = true;
    }
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (signalled != std::chrono::steady_clock::time_point()) {
    run.seconds_after_signal = std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  }
  return run;
}

// This process's address space (VmSize), 0 if /proc cannot say.
uint64_t mapped_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;  // in kB
  }
  return 0;
}

}  // namespace

CliRun run_cli(const std::string& arguments) { return run_svgear(arguments, "", SIGINT, 0); }

CliRun run_cli_interrupted(const std::string& arguments, const std::string& interrupt_after, int signal) {
  return run_svgear(arguments, interrupt_after, signal, 0);
}

CliRun run_cli_in_memory(const std::string& arguments, uint64_t bytes) {
  return run_svgear(arguments, "", SIGINT, mapped_bytes() + bytes);
}

CliRun run_cli_with_file_size_limit(const std::string& arguments, uint64_t bytes) {
  return run_svgear(arguments, "", SIGINT, 0, bytes);
}

GenerationResult generate_through_the_api(Model& model, const std::string& prompt, uint64_t seed, int steps) {
  GenerationRequest request;
  request.prompt = prompt;
  request.seed = seed;
  request.steps = steps;
  request.frames = 5;
  request.height = 32;
  request.width = 48;
  request.preview_every = 0;
  EventSink sink;
  CancelToken cancel;
  GenerationResult result = Generator(model).run(request, sink, cancel);
  EXPECT_EQ(result.status, GenerationStatus::Finished) << result.error;
  return result;
}

}  // namespace svgear::test
