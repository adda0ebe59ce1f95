#include "kernels/common/kernel_path.h"

#include <atomic>

namespace svgear {
namespace {

std::atomic<KernelPath> g_path{KernelPath::Fastest};

}  // namespace

void set_kernel_path(KernelPath path) { g_path.store(path); }

KernelPath kernel_path() { return g_path.load(); }

}  // namespace svgear
