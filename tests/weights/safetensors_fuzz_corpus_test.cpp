// Replays the fuzzer's regression inputs (tests/weights/fuzz_corpus): each must parse or be
// refused with a WeightsError, never crash or throw anything else.

#include <gtest/gtest.h>

#include <string>

#include "core/weights/safetensors_header.h"
#include "tests/support/fuzz_corpus.h"

namespace svgear {
namespace {

TEST(SafetensorsFuzzCorpus, EveryInputParsesOrThrowsWeightsError) {
  for (const test::CorpusInput& input : test::fuzz_corpus("tests/weights/fuzz_corpus", 10)) {
    SCOPED_TRACE(input.name);
    try {
      parse_safetensors_header(reinterpret_cast<const uint8_t*>(input.bytes.data()), input.bytes.size(), input.name);
    } catch (const WeightsError& e) {
      EXPECT_NE(std::string(e.what()).find(input.name), std::string::npos) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw something other than WeightsError: " << e.what();
    }
  }
}

}  // namespace
}  // namespace svgear
