// CancelToken: the flag the engine polls, and a token that follows a parent (the studio's model
// loads: a newer choice cancels the load's own token, closing the window the worker's, its parent).

#include <gtest/gtest.h>

#include "core/cancel_token.h"

namespace svgear {
namespace {

TEST(CancelToken, AChildReadsItsParentsCancelAndCancelsOnlyItself) {
  CancelToken parent;
  CancelToken child(&parent);
  EXPECT_FALSE(child.is_cancelled());
  EXPECT_NO_THROW(child.throw_if_cancelled());

  parent.cancel();
  EXPECT_TRUE(child.is_cancelled());
  EXPECT_THROW(child.throw_if_cancelled(), Cancelled);
  parent.reset();
  EXPECT_FALSE(child.is_cancelled());

  child.cancel();
  EXPECT_TRUE(child.is_cancelled());
  EXPECT_FALSE(parent.is_cancelled());
  child.reset();
  EXPECT_FALSE(child.is_cancelled());
}

}  // namespace
}  // namespace svgear
