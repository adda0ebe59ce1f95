// LoadProgress: a part's start, each further percent of its bytes and its end reach the report,
// never more than about a hundred calls a part whatever the number of tensors, never past the total.

#include <vector>

#include <gtest/gtest.h>

#include "core/weights/load_progress.h"

namespace svgear {
namespace {

TEST(LoadProgress, ReportsAPartsStartEachPercentAndEnd) {
  std::vector<LoadStep> heard;
  LoadProgress progress([&](const LoadStep& step) { heard.push_back(step); });
  progress.tensor_read(5);  // before any part: nothing to count it in
  EXPECT_TRUE(heard.empty());

  progress.start_part("diffusion model", 10'000);
  for (int i = 0; i < 10'000; ++i) progress.tensor_read(1);  // 10,000 small tensors
  progress.tensor_read(500);  // read twice: the count stops at the total
  progress.end_part();
  ASSERT_GE(heard.size(), 3u);
  EXPECT_LE(heard.size(), 102u);
  EXPECT_EQ(heard.front().part, "diffusion model");
  EXPECT_EQ(heard.front().done, 0);
  EXPECT_EQ(heard.back().done, 10'000);
  for (size_t i = 1; i < heard.size(); ++i) {
    EXPECT_EQ(heard[i].total, 10'000);
    EXPECT_GE(heard[i].done - heard[i - 1].done, 100) << i;  // a percent apart, the end aside
  }
  EXPECT_EQ(heard.size(), 101u);  // 0, 1 %, …, 99 %, then the end

  // Few large tensors: each read is heard; the end once, even when the reads reached the total.
  heard.clear();
  progress.start_part("text encoder", 3);
  progress.tensor_read(1);
  progress.tensor_read(2);
  progress.end_part();
  progress.end_part();  // a second end: outside a part, nothing
  ASSERT_EQ(heard.size(), 3u);
  EXPECT_EQ(heard[0].done, 0);
  EXPECT_EQ(heard[1].done, 1);
  EXPECT_EQ(heard[2].done, 3);
  EXPECT_EQ(heard[2].part, "text encoder");

  // A part of no bytes (a VAE whose size could not be read) starts and ends.
  heard.clear();
  progress.start_part("VAE", 0);
  progress.end_part();
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[1].done, heard[1].total);
}

}  // namespace
}  // namespace svgear
