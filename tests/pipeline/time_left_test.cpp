// time_left_ms: the progress line's estimate of the denoising time left.

#include "core/pipeline/time_left.h"

#include <vector>

#include <gtest/gtest.h>

namespace svgear {
namespace {

std::vector<int> one_kind(int steps) { return std::vector<int>(size_t(steps), 0); }

TEST(TimeLeft, StepsLeftAtTheMeanOfTheirKind) {
  EXPECT_DOUBLE_EQ(time_left_ms({100.0}, one_kind(10), 0, 0, 0.0, 0.0), 9 * 100.0);
  EXPECT_DOUBLE_EQ(time_left_ms({200.0, 100.0, 300.0}, one_kind(10), 0, 0, 0.0, 0.0), 7 * 200.0);
  EXPECT_DOUBLE_EQ(time_left_ms({100.0}, one_kind(1), 0, 0, 0.0, 0.0), 0.0);  // the last step is done
  EXPECT_DOUBLE_EQ(time_left_ms({}, one_kind(4), 1, 0, 0.0, 0.0), 0.0);        // nothing measured yet
}

// A GPU's first step loads the kernels and plans the libraries' calls: 9 s, then 1 s a step. After
// the second of 50 steps the estimate is 48 s, not 48 × 5 s.
TEST(TimeLeft, AColdFirstStepDoesNotCountOnceASecondHasRun) {
  EXPECT_DOUBLE_EQ(time_left_ms({9000.0, 1000.0}, one_kind(50), 0, 0, 0.0, 0.0), 48 * 1000.0);
  EXPECT_DOUBLE_EQ(time_left_ms({9000.0, 1000.0, 1200.0}, one_kind(50), 0, 0, 0.0, 0.0), 47 * 1100.0);
}

// Ten dense warm-up steps of 1 s (the first, cold, 4 s), then sparse steps of 0.5 s whose first
// clusters from scratch (3 s). Until a second sparse step has run, the sparse steps are guessed at
// the warm steps' time, so the estimate does not jump at the cold first sparse step; then at their
// own.
TEST(TimeLeft, DenseAndSparseStepsEachAtTheirOwnTime) {
  const std::vector<int> kinds = step_kinds(50, 50, 10, true, true);
  std::vector<double> ms(10, 1000.0);
  ms[0] = 4000.0;
  EXPECT_DOUBLE_EQ(time_left_ms(ms, kinds, 0, 0, 0.0, 0.0), 40 * 1000.0);
  ms.push_back(3000.0);
  EXPECT_DOUBLE_EQ(time_left_ms(ms, kinds, 0, 0, 0.0, 0.0), 39 * 1000.0);
  ms.push_back(500.0);
  EXPECT_DOUBLE_EQ(time_left_ms(ms, kinds, 0, 0, 0.0, 0.0), 38 * 500.0);
  // A kind with no warm step takes the mean of the steps past their kinds' first (here step 2's).
  EXPECT_DOUBLE_EQ(time_left_ms({5000.0, 1000.0, 3000.0}, {0, 2, 2, 4, 4}, 0, 0, 0.0, 0.0), 2 * 3000.0);
}

// The labels: Wan2.2-A14B's experts apart, dense warm-up apart from sparse steps, one guidance
// pass apart from two; a single expert's run never reaches the low-noise labels.
TEST(TimeLeft, StepsOfOneKindCostAlike) {
  EXPECT_EQ(step_kinds(4, 4, 4, true, true), (std::vector<int>{1, 1, 1, 1}));    // dense, guided
  EXPECT_EQ(step_kinds(5, 5, 2, false, false), (std::vector<int>{0, 0, 2, 2, 2}));  // sparse from step 2
  // A14B: the high-noise expert guided for 3 steps, the low-noise one at guidance 1, sparse from 1.
  EXPECT_EQ(step_kinds(6, 3, 1, true, false), (std::vector<int>{1, 3, 3, 6, 6, 6}));
  EXPECT_EQ(step_kinds(3, 0, 0, false, true), (std::vector<int>{7, 7, 7}));  // the low-noise expert alone
  EXPECT_TRUE(step_kinds(0, 0, 0, true, true).empty());
}

// Wan's first preview fits its projection: 26 s once, then ~0.2 s a preview. After the first of 50
// steps (1 s each, a preview after every step but the last) the estimate is 49 steps and no
// preview yet known, not 49 × 27 s; after the third, 47 steps and 47 previews at 0.2 s.
TEST(TimeLeft, TheFirstPreviewDoesNotCount) {
  EXPECT_DOUBLE_EQ(time_left_ms({1000.0}, one_kind(50), 1, 1, 26000.0, 26000.0), 49 * 1000.0);
  EXPECT_DOUBLE_EQ(time_left_ms({1000.0, 1000.0, 1000.0}, one_kind(50), 1, 3, 26000.0, 26400.0),
                   47 * 1000.0 + 46 * 200.0);
}

// Previews come after every preview_every-th step short of the last.
TEST(TimeLeft, CountsOnlyThePreviewsStillToCome) {
  // Every 3rd of 10 steps: after steps 3, 6 and 9. After step 6 (previews of 50 and 20 ms shown),
  // step 9's is left.
  EXPECT_DOUBLE_EQ(time_left_ms({10, 10, 10, 10, 10, 10}, one_kind(10), 3, 2, 50.0, 70.0), 4 * 10.0 + 1 * 20.0);
  // Every 2nd: after steps 2, 4, 6 and 8, not 10. After step 4, those of 6 and 8 are left.
  EXPECT_DOUBLE_EQ(time_left_ms({10, 10, 10, 10}, one_kind(10), 2, 2, 50.0, 70.0), 6 * 10.0 + 2 * 20.0);
  // Every 5th of 15: after steps 5 and 10; the last step has none, so after step 10 none is left.
  EXPECT_DOUBLE_EQ(time_left_ms(std::vector<double>(10, 10.0), one_kind(15), 5, 2, 50.0, 70.0), 5 * 10.0);
}

// Between step events the estimate counts down; a step past its share holds it at the steps after
// the running one (9 s for the 9 after it, of 10 steps left at 1 s each), and the last step's
// overrun leaves nothing to say but that.
TEST(TimeLeft, CountsDownThenHoldsAtTheStepsAfterTheRunningOne) {
  struct Case {
    double eta_ms, since_ms;
    int steps_left;
    double ms;
    bool at_least;
  };
  for (const Case& c : {Case{10000.0, 400.0, 10, 9600.0, false}, Case{10000.0, 1000.0, 10, 9000.0, true},
                        Case{10000.0, 60000.0, 10, 9000.0, true}, Case{2000.0, 500.0, 1, 1500.0, false},
                        Case{2000.0, 2500.0, 1, 0.0, true},
                        Case{0.0, 10.0, 0, 0.0, true}}) {  // after the last step: the decode, not estimated
    const TimeLeftNow now = time_left_now(c.eta_ms, c.since_ms, c.steps_left);
    EXPECT_DOUBLE_EQ(now.ms, c.ms) << c.eta_ms << " " << c.since_ms << " " << c.steps_left;
    EXPECT_EQ(now.at_least, c.at_least) << c.eta_ms << " " << c.since_ms << " " << c.steps_left;
  }
}

}  // namespace
}  // namespace svgear
