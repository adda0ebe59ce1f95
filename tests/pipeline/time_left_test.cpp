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

// Ten dense warm-up steps of 1 s, then sparse steps of 0.5 s whose first clusters from scratch (3 s).
// While no sparse step has run, the sparse steps are guessed at the dense steps' time; then each
// kind's steps at that kind's time, the first sparse step's k-means init left out once a second ran.
TEST(TimeLeft, DenseAndSparseStepsEachAtTheirOwnTime) {
  std::vector<int> kinds(50, 2);
  for (int i = 0; i < 10; ++i) kinds[size_t(i)] = 0;
  std::vector<double> ms(10, 1000.0);
  EXPECT_DOUBLE_EQ(time_left_ms(ms, kinds, 0, 0, 0.0, 0.0), 40 * 1000.0);
  ms.push_back(3000.0);
  EXPECT_DOUBLE_EQ(time_left_ms(ms, kinds, 0, 0, 0.0, 0.0), 39 * 3000.0);
  ms.push_back(500.0);
  EXPECT_DOUBLE_EQ(time_left_ms(ms, kinds, 0, 0, 0.0, 0.0), 38 * 500.0);
  // A kind not yet seen takes the mean of every step so far, the run's first left out.
  EXPECT_DOUBLE_EQ(time_left_ms({5000.0, 1000.0, 3000.0}, {0, 2, 2, 4, 4}, 0, 0, 0.0, 0.0), 2 * 2000.0);
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

}  // namespace
}  // namespace svgear
