// libFuzzer target: any byte string is a candidate spiece.model. Loading it and tokenising a few
// prompts with it (libsentencepiece behind our checks, our charsmap and our Unigram Viterbi on its
// tables: sentencepiece_model_input.h) must succeed or throw UserError; anything else (a crash, a
// sanitizer report, another exception, a hang, unbounded memory) is a bug.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tests/fuzz/sentencepiece_model_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    svgear::fuzz::exercise_spiece_model(bytes, "'fuzz/spiece.model'");
  } catch (const svgear::UserError& e) {
    static const bool verbose = std::getenv("SVGEAR_FUZZ_VERBOSE") != nullptr;  // for triage
    if (verbose) std::fprintf(stderr, "UserError: %s\n", e.what());
    // Messages reach the user through JSON events: they must be valid UTF-8 (dump() throws on
    // invalid UTF-8, which the fuzzer reports).
    try {
      (void)nlohmann::json(std::string(e.what())).dump();
    } catch (const nlohmann::json::exception&) {
      std::fprintf(stderr, "UserError message is not UTF-8: %s\n", e.what());
      throw;
    }
  }
  return 0;
}
