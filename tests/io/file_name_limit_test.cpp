#include "core/io/file_name_limit.h"

#include <fstream>

#include <gtest/gtest.h>

#include "core/io/atomic_file.h"
#include "core/user_error.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

TEST(FileNameLimit, CutsAStemToLeaveRoomForItsTail) {
  EXPECT_EQ(cut_file_stem("clip", 13), "clip");
  const std::string long_stem(300, 'a');
  EXPECT_EQ(cut_file_stem(long_stem, 13).size(), kMaxFileNameBytes - 13);
  EXPECT_EQ(cut_file_stem(long_stem, 400), "");
  // "é" is two bytes: a cut that would split one backs off to the character's start.
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xC3\xA9";
  const std::string cut = cut_file_stem(accents, 10);  // room for 245 bytes, an odd count
  EXPECT_EQ(cut.size(), 244u);
  EXPECT_EQ(cut, accents.substr(0, 244));
}

TEST(FileNameLimit, ANameTooLongIsRefusedNamingIt) {
  const auto dir = test::scratch_dir("name_limit");
  const std::string longest(kMaxFileNameBytes, 'n');
  EXPECT_NO_THROW(check_file_name_lengths(dir / longest));
  EXPECT_NO_THROW(check_output_file(dir / longest));
  try {
    check_output_file(dir / (longest + "x"));
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("256 bytes"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("shorter name"), std::string::npos) << e.what();
  }
  // A folder that does not exist yet: its name is checked before anything is made.
  EXPECT_THROW(check_output_folder(dir / (longest + "x") / "sub"), UserError);
  EXPECT_FALSE(std::filesystem::exists(dir / "sub"));
}

TEST(FileNameLimit, AFileWithTheLongestNameIsWrittenAtomically) {
  // Its temporary name ("<name>.tmp-<pid>-<n>") would pass the limit unless cut.
  const auto dir = test::scratch_dir("name_limit_write");
  const std::filesystem::path file = dir / std::string(kMaxFileNameBytes, 'w');
  write_file_atomically(file, "content");
  std::ifstream in(file);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "content");
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace svgear
