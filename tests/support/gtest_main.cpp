#include <gtest/gtest.h>

#include "core/io/exit_without_teardown.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  svgear::exit_without_teardown(RUN_ALL_TESTS());
}
