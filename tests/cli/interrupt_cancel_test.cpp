// InterruptCancel and InterruptsHeld in this process: a signal cancels the token; inside an
// InterruptsHeld it waits for the scope's end, and a second one then ends the process, not before.

#include "app/interrupt_cancel.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

namespace svgear {
namespace {

TEST(InterruptCancel, ASignalDuringTheWritesWaitsForThem) {
  CancelToken cancel;
  InterruptCancel interrupt(cancel);
  {
    const InterruptsHeld held;
    std::raise(SIGINT);
    EXPECT_FALSE(cancel.is_cancelled()) << "cancelled inside the writes";
  }
  EXPECT_TRUE(cancel.is_cancelled()) << "the signal was lost";
}

TEST(InterruptCancelDeathTest, ASecondSignalEndsTheProcessOnlyAfterTheWrites) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        CancelToken cancel;
        InterruptCancel interrupt(cancel);
        std::raise(SIGTERM);  // the first: cancels
        if (!cancel.is_cancelled()) std::exit(3);
        {
          const InterruptsHeld held;
          std::raise(SIGTERM);  // the second, during the writes
          std::fputs("writes finished\n", stderr);
        }
        std::exit(4);  // not reached: the held signal ends the process here
      },
      ::testing::KilledBySignal(SIGTERM), "writes finished");
}

}  // namespace
}  // namespace svgear
