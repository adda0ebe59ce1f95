// InterruptCancel and InterruptsHeld in this process: a signal cancels the token; inside an
// InterruptsHeld it waits for the scope's end, and a second one then ends the process, not before.

#include "app/interrupt_cancel.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/test_paths.h"

namespace svgear {
namespace {

// A second signal counts as one only past InterruptCancel::kSameEventMs after the first.
void wait_past_the_same_event() {
  std::this_thread::sleep_for(std::chrono::milliseconds(InterruptCancel::kSameEventMs + 100));
}

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

// A closed terminal (SIGHUP) cancels as Ctrl-C does, and the handlers go when the scope ends.
TEST(InterruptCancel, HangUpCancelsToo) {
  std::signal(SIGHUP, SIG_DFL);  // as in a terminal (under nohup it is ignored, and stays so)
  CancelToken cancel;
  {
    InterruptCancel interrupt(cancel);
    std::raise(SIGHUP);
    EXPECT_TRUE(cancel.is_cancelled()) << "SIGHUP did not cancel";
  }
  struct sigaction after {};
  sigaction(SIGHUP, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_DFL) << "the handler outlived its InterruptCancel";
  EXPECT_EQ(InterruptCancel::exit_status(), 128 + SIGHUP) << "the exit status must name the signal after the scope";
}

// The exit status names the first signal, also when another came after it during the writes.
TEST(InterruptCancel, TheExitStatusNamesTheFirstSignal) {
  CancelToken cancel;
  InterruptCancel interrupt(cancel);
  {
    const InterruptsHeld held;
    std::raise(SIGTERM);
    std::raise(SIGINT);
  }
  EXPECT_TRUE(cancel.is_cancelled());
  EXPECT_EQ(InterruptCancel::exit_status(), 128 + SIGTERM);
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
          wait_past_the_same_event();
          std::raise(SIGTERM);  // the second, during the writes
          std::fputs("writes finished\n", stderr);
        }
        std::exit(4);  // not reached: the held signal ends the process here
      },
      ::testing::KilledBySignal(SIGTERM), "writes finished");
}

// A hold inside another (train's checkpoint inside its final save and export) keeps a second signal
// until the outer one ends.
TEST(InterruptCancelDeathTest, ANestedHoldKeepsTheSignalUntilTheOuterEnds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        CancelToken cancel;
        InterruptCancel interrupt(cancel);
        std::raise(SIGTERM);  // the first: cancels
        {
          const InterruptsHeld outer;
          {
            const InterruptsHeld inner;
            wait_past_the_same_event();
            std::raise(SIGTERM);  // the second, during the checkpoint
          }
          std::fputs("export finished\n", stderr);
        }
        std::exit(4);  // not reached: the held signal ends the process here
      },
      ::testing::KilledBySignal(SIGTERM), "export finished");
}

// What the writes printed reaches its reader before the held signal ends the process: a line
// buffered for a pipe or a file (generate's "wrote …" through `| tee`) is not lost with it.
TEST(InterruptCancelDeathTest, WhatTheWritesPrintedIsFlushedBeforeTheHeldSignal) {
  GTEST_FLAG_SET(death_test_style, "fast");  // forked: the child writes this process's scratch file
  const std::filesystem::path log = test::scratch_dir("interrupt_flush") / "log.txt";
  EXPECT_EXIT(
      {
        std::FILE* out = std::fopen(log.c_str(), "w");
        if (!out || setvbuf(out, nullptr, _IOFBF, 1 << 16) != 0) std::exit(3);  // as stdout to a pipe
        CancelToken cancel;
        InterruptCancel interrupt(cancel);
        std::raise(SIGINT);  // the first: cancels
        {
          const InterruptsHeld held;
          wait_past_the_same_event();
          std::raise(SIGINT);  // the second, during the writes
          std::fputs("wrote partial out/clip.mp4\n", out);
        }
        std::exit(4);  // not reached
      },
      ::testing::KilledBySignal(SIGINT), "");
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "wrote partial out/clip.mp4");
}

// A streamed output's temporary file (generate's --trace) does not outlive a second Ctrl-C; one
// the process no longer names stays.
TEST(InterruptCancelDeathTest, ASecondSignalRemovesTheStreamedFile) {
  // Forked without exec, so that the child names this process's scratch files (each process has
  // its own scratch folder).
  GTEST_FLAG_SET(death_test_style, "fast");
  const std::filesystem::path dir = test::scratch_dir("interrupt_streamed");
  const std::filesystem::path streamed = dir / "trace.json.tmp", kept = dir / "kept.json.tmp";
  for (const auto& path : {streamed, kept}) std::ofstream(path) << "{\"steps\":[";
  EXPECT_EXIT(
      {
        CancelToken cancel;
        InterruptCancel interrupt(cancel);
        InterruptCancel::remove_on_forced_exit(kept.c_str());
        InterruptCancel::remove_on_forced_exit(streamed.c_str());  // replaces the first
        std::raise(SIGINT);  // the first: cancels
        wait_past_the_same_event();
        std::raise(SIGINT);  // the second: ends the process, saying so
        std::exit(4);
      },
      ::testing::KilledBySignal(SIGINT), "stopped at once by a second signal: nothing more is kept");
  EXPECT_FALSE(std::filesystem::exists(streamed));
  EXPECT_TRUE(std::filesystem::exists(kept));
}

// `timeout -s INT` signals its child and then the child's process group: the child gets the signal
// twice within microseconds. That is one request to stop, which keeps the partial result; a second
// one past the window still ends the process.
TEST(InterruptCancelDeathTest, OneSignalDeliveredTwiceIsOne) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        CancelToken cancel;
        InterruptCancel interrupt(cancel);
        std::raise(SIGINT);
        std::raise(SIGTERM);  // the same event: a closed terminal's SIGHUP and the shell's SIGTERM alike
        std::raise(SIGINT);
        if (!cancel.is_cancelled()) std::exit(3);
        std::fputs("still running\n", stderr);
        wait_past_the_same_event();
        std::raise(SIGINT);
        std::exit(4);  // not reached
      },
      ::testing::KilledBySignal(SIGINT), "still running\n\nstopped at once by a second signal");
}

}  // namespace
}  // namespace svgear
