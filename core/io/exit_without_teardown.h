#pragma once
// exit_without_teardown: flush the standard streams and end the process without running static
// destructors.
//
// Why: on the GPU machine (Ubuntu 24.04, GCC 13 runtime) every program that loads the PyTorch
// wheel's LibTorch aborts in LibTorch's own static teardown — TorchLibraryInit's destructor
// deregisters operators, builds a schema string and frees a std::locale it did not allocate
// ("free(): invalid pointer"; backtrace in docs/gpu-runs.md). The work is done by then, so our
// mains skip that teardown. Files we write are committed explicitly (AtomicFile), never by a
// destructor at exit.

namespace svgear {

[[noreturn]] void exit_without_teardown(int code);

}  // namespace svgear
