// LibTorch's CPU threads are GNU OpenMP's, whose idle threads spin for a while by default, waiting
// for the next parallel region. Where another process keeps a core busy (a second run, the studio
// beside a CLI run, `ctest -j`), a spinning thread holds the core its region's other thread needs:
// a sparse run on the CPU, whose clustering is thousands of small regions per step, went from
// 0.5 s to 20–45 s beside a second svgear process on two cores. Passive threads cost an idle
// machine a few percent (docs/benchmarks.md) and keep a busy one usable.
//
// libgomp reads OMP_WAIT_POLICY once, in its initialiser, and libc's initialiser resets the
// environment a preinit function could set: so an executable without the variable starts itself
// again with OMP_WAIT_POLICY=PASSIVE, from its preinit function, before any library initialiser
// has run. A policy the user set is kept. Linked into each executable (a library's preinit
// function would not run).

#include <alloca.h>
#include <unistd.h>

#include <cstring>

namespace {

constexpr char kName[] = "OMP_WAIT_POLICY=";
constexpr char kPassive[] = "OMP_WAIT_POLICY=PASSIVE";

void restart_with_passive_openmp_threads(int, char** argv, char** env) {
  size_t count = 0;
  for (; env && env[count]; ++count) {
    if (std::strncmp(env[count], kName, sizeof kName - 1) == 0) return;
  }
  // No malloc yet: libc is not initialised.
  char** with_policy = static_cast<char**>(alloca((count + 2) * sizeof(char*)));
  for (size_t i = 0; i < count; ++i) with_policy[i] = env[i];
  with_policy[count] = const_cast<char*>(kPassive);
  with_policy[count + 1] = nullptr;
  execve("/proc/self/exe", argv, with_policy);
  // Only where /proc is missing: run on with libgomp's default.
}

[[gnu::section(".preinit_array"), gnu::used]] void (*const preinit_openmp_wait_policy)(int, char**, char**) =
    &restart_with_passive_openmp_threads;

}  // namespace
