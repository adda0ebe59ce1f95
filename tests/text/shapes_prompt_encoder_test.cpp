// ShapesPromptEncoder hands the token table the canonical wording of whatever the grammar accepts.

#include "core/text/shapes_prompt_encoder.h"

#include <memory>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/shapes/prompt_grammar.h"

namespace svgear {
namespace {

// Records what it was asked to encode.
class RecordingEncoder : public TextEncoder {
 public:
  explicit RecordingEncoder(std::string* seen) : seen_(seen) {}
  at::Tensor encode(std::string_view prompt) const override {
    *seen_ = std::string(prompt);
    return at::zeros({1, 4});
  }
  int text_dim() const override { return 4; }

 private:
  std::string* seen_;
};

TEST(ShapesPromptEncoder, TokenisesTheCanonicalWording) {
  std::string seen;
  ShapesPromptEncoder encoder(std::make_unique<RecordingEncoder>(&seen));
  encoder.encode("Red circle, left!");
  EXPECT_EQ(seen, "a medium red circle moves left over a black background");
  EXPECT_NE(seen.find("moves left"), std::string::npos) << seen;
  const std::string canonical = "a small yellow star spins over a blue sky";
  encoder.encode(canonical);
  EXPECT_EQ(seen, canonical);
  encoder.encode("  ");  // the unconditional context: no grammar involved
  EXPECT_EQ(seen, "  ");
  EXPECT_EQ(encoder.text_dim(), 4);
  try {
    encoder.encode("a purple elephant");
    FAIL() << "an unknown word was accepted";
  } catch (const PromptError& e) {
    EXPECT_NE(std::string(e.what()).find("elephant"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace svgear
