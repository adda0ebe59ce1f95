// Replays the fuzzer's regression inputs (tests/weights/fuzz_corpus): each must parse or be
// refused with a WeightsError, never crash or throw anything else.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/weights/safetensors_header.h"
#include "svgear/build_config.h"

namespace svgear {
namespace {

TEST(SafetensorsFuzzCorpus, EveryInputParsesOrThrowsWeightsError) {
  std::filesystem::path corpus =
      std::filesystem::path(SVGEAR_SOURCE_DIR) / "tests/weights/fuzz_corpus";
  ASSERT_TRUE(std::filesystem::is_directory(corpus)) << corpus;
  int inputs = 0;
  for (const auto& item : std::filesystem::directory_iterator(corpus)) {
    if (!item.is_regular_file()) continue;
    ++inputs;
    std::ifstream in(item.path(), std::ios::binary);
    std::string bytes(std::istreambuf_iterator<char>(in), {});
    std::string label = item.path().filename().string();
    SCOPED_TRACE(label);
    try {
      parse_safetensors_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), label);
    } catch (const WeightsError& e) {
      EXPECT_NE(std::string(e.what()).find(label), std::string::npos) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw something other than WeightsError: " << e.what();
    }
  }
  EXPECT_GE(inputs, 10) << "the corpus in " << corpus << " is missing";
}

}  // namespace
}  // namespace svgear
