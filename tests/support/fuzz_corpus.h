#pragma once
// The regression inputs a fuzzer found (tests/*/fuzz_corpus), for the suites that replay them.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "svgear/build_config.h"

namespace svgear::test {

struct CorpusInput {
  std::string name;  // the file's name
  std::string bytes;
};

// Every file of `folder` (relative to the source tree), in no particular order. Fails the calling
// test when the folder is missing or holds fewer than `at_least` inputs: a lost corpus replays nothing.
inline std::vector<CorpusInput> fuzz_corpus(const std::string& folder, size_t at_least) {
  const std::filesystem::path corpus = std::filesystem::path(SVGEAR_SOURCE_DIR) / folder;
  std::vector<CorpusInput> inputs;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(corpus, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    inputs.push_back({it->path().filename().string(), std::string(std::istreambuf_iterator<char>(in), {})});
  }
  EXPECT_GE(inputs.size(), at_least) << "the corpus in " << corpus << " is missing";
  return inputs;
}

}  // namespace svgear::test
