#include "core/weights/checkpoint_mismatch.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace svgear {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(CheckpointMismatch, ListsAFewProblemsWhole) {
  const std::string lines = tensor_problem_lines({"a.weight", "b.bias"}, {"c.weight has shape [2] instead of [3]"});
  EXPECT_EQ(lines, "\n  missing: a.weight\n  missing: b.bias\n  c.weight has shape [2] instead of [3]");
}

// A hostile model.json (100000 layers) once gave 112 MB of names.
TEST(CheckpointMismatch, BoundsAHostileConfigsList) {
  std::vector<std::string> missing, misfit;
  for (int i = 0; i < 100000; ++i) missing.push_back("blocks." + std::to_string(i) + ".ffn.0.weight");
  for (int i = 0; i < 21; ++i) misfit.push_back("t" + std::to_string(i) + " has the wrong shape");
  const std::string lines = tensor_problem_lines(missing, misfit);
  EXPECT_EQ(count(lines, "\n  missing: "), 20u);
  EXPECT_NE(lines.find("missing: blocks.19.ffn.0.weight"), std::string::npos);
  EXPECT_EQ(lines.find("blocks.20."), std::string::npos);
  EXPECT_NE(lines.find("… and 99980 more missing"), std::string::npos) << lines;
  EXPECT_EQ(count(lines, " has the wrong shape"), 20u);
  EXPECT_NE(lines.find("… and 1 more misfit"), std::string::npos) << lines;
  EXPECT_LT(lines.size(), 2000u);
}

}  // namespace
}  // namespace svgear
