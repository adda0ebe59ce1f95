#pragma once
// Where tests find reference data and scratch space.

#include <filesystem>
#include <string>

namespace svgear::test {

// ../shared/testvectors (from $SVGEAR_TESTVECTORS). Fails the calling test with a clear message
// when the folder or `relative` inside it is missing: reference data is never optional.
std::filesystem::path testvector(const std::string& relative);

// A fresh, empty folder for this test under the system temp dir; removed at process exit.
std::filesystem::path scratch_dir(const std::string& name);

}  // namespace svgear::test
