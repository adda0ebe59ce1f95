#pragma once
// exit_without_teardown: flush the standard streams and end the process without running static
// destructors.
//
// Why: on the GPU machine (Ubuntu 24.04, GCC 13 runtime) programs that load the PyTorch wheel's
// LibTorch did not end cleanly in LibTorch's own static teardown. First they aborted in it
// ("free(): invalid pointer" freeing a std::locale; docs/gpu-runs.md): the cause was a second,
// static libstdc++ linked into every binary there, gone since packaging/gpu/gpu-check.sh keeps
// /opt/gcc out of the configure. Without this exit the test programs there still did not finish
// within 400 s (thirty-first session, not diagnosed; on a machine without a GPU they end cleanly).
// The work is done by then, so our mains skip that teardown. Files we write are committed
// explicitly (AtomicFile), never by a destructor at exit.

namespace svgear {

[[noreturn]] void exit_without_teardown(int code);

}  // namespace svgear
