// FolderLock: one holder at a time, released when the holder goes; a missing folder is an error.

#include "core/io/folder_lock.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "core/user_error.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

TEST(FolderLock, OneHolderAtATime) {
  const auto dir = test::scratch_dir("folder_lock");
  auto first = std::make_unique<FolderLock>(dir, "another `svgear train`");
  try {
    FolderLock second(dir, "another `svgear train`");  // another open of the folder, as another process's
    FAIL() << "a second lock must be refused";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("another `svgear train` is using " + dir.string()), std::string::npos)
        << e.what();
  }
  first.reset();
  EXPECT_NO_THROW(FolderLock again(dir, "another `svgear train`"));
  EXPECT_THROW(FolderLock missing(dir / "nowhere", "x"), UserError);
}

}  // namespace
}  // namespace svgear
