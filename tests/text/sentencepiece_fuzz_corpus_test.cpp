// Replays sentencepiece_model_fuzz's regression inputs (tests/text/fuzz_corpus; run-fuzz.sh spiece
// adds to it) through the same stages as the fuzzer (tests/fuzz/sentencepiece_model_input.h):
// each must load and tokenise, or be refused with a UserError, never crash or throw anything else.
// The valid-* inputs are real trained models (run-fuzz.sh's seeds): they must load where
// SentencePiece is built in.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "core/text/sentencepiece_model.h"
#include "core/user_error.h"
#include "svgear/build_config.h"
#include "tests/fuzz/sentencepiece_model_input.h"

namespace svgear {
namespace {

TEST(SentencePieceFuzzCorpus, EveryInputLoadsOrThrowsUserError) {
  const std::filesystem::path corpus =
      std::filesystem::path(SVGEAR_SOURCE_DIR) / "tests/text/fuzz_corpus";
  ASSERT_TRUE(std::filesystem::is_directory(corpus)) << corpus;
  int inputs = 0;
  for (const auto& item : std::filesystem::directory_iterator(corpus)) {
    if (!item.is_regular_file()) continue;
    ++inputs;
    std::ifstream in(item.path(), std::ios::binary);
    const std::string bytes(std::istreambuf_iterator<char>(in), {});
    const std::string label = "'" + item.path().filename().string() + "'";
    const bool valid = item.path().filename().string().starts_with("valid-");
    SCOPED_TRACE(label);
    try {
      fuzz::exercise_spiece_model(bytes, label);
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
  EXPECT_GE(inputs, 5) << "the corpus in " << corpus << " is missing";
}

}  // namespace
}  // namespace svgear
