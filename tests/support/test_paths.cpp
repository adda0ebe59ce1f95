#include "tests/support/test_paths.h"

#include <cstdlib>
#include <stdexcept>

#include <unistd.h>

namespace svgear::test {

std::filesystem::path testvector(const std::string& relative) {
  const char* root = std::getenv("SVGEAR_TESTVECTORS");
  if (!root || !*root) {
    throw std::runtime_error("SVGEAR_TESTVECTORS is not set: run the tests through ctest");
  }
  std::filesystem::path path = std::filesystem::path(root) / relative;
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error("reference data missing: " + path.string() +
                             " (the project expects ../shared/testvectors beside the checkout)");
  }
  return path;
}

namespace {

// This process's scratch root, emptied first (a test program that crashed or was killed left its
// root behind, and a later process can get its pid: a test listing the root found the old one's
// folders) and removed when the test program exits.
struct ScratchRoot {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("svgear-test-" + std::to_string(::getpid()));
  ScratchRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ~ScratchRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

std::filesystem::path scratch_dir(const std::string& name) {
  static ScratchRoot root;
  std::filesystem::path dir = root.path / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace svgear::test
