// Replays sentencepiece_model_fuzz's regression inputs (tests/text/fuzz_corpus; run-fuzz.sh spiece
// adds to it) through the same stages as the fuzzer (tests/fuzz/sentencepiece_model_input.h):
// each must load and tokenise, or be refused with a UserError, never crash or throw anything else.
// The valid-* inputs are real trained models (run-fuzz.sh's seeds): they must load where
// SentencePiece is built in.

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "core/text/sentencepiece_model.h"
#include "core/user_error.h"
#include "svgear/build_config.h"
#include "tests/support/fuzz_corpus.h"
#include "tests/fuzz/sentencepiece_model_input.h"

namespace svgear {
namespace {

TEST(SentencePieceFuzzCorpus, EveryInputLoadsOrThrowsUserError) {
  for (const test::CorpusInput& input : test::fuzz_corpus("tests/text/fuzz_corpus", 5)) {
    const std::string label = "'" + input.name + "'";
    const bool valid = input.name.starts_with("valid-");
    SCOPED_TRACE(label);
    try {
      fuzz::exercise_spiece_model(input.bytes, label);
      EXPECT_TRUE(sentencepiece_available()) << "loaded without SentencePiece";
    } catch (const UserError& e) {
      EXPECT_FALSE(valid && sentencepiece_available()) << e.what();
      // Messages reach the user through JSON events, which must be UTF-8 (libsentencepiece's
      // quote the file's pieces byte for byte: byte-piece-not-utf8).
      EXPECT_NO_THROW((void)nlohmann::json(std::string(e.what())).dump()) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw something other than UserError: " << e.what();
    }
  }
}

}  // namespace
}  // namespace svgear
