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

// A path of short names past Linux's 4095 bytes: refused before any work (it failed at the write,
// mid-run for a trace), and quoted by its ends, not as 4 KB of folder names.
TEST(FileNameLimit, APathTooLongIsRefusedAndQuotedByItsEnds) {
  const auto dir = test::scratch_dir("path_limit");
  std::filesystem::path deep = dir;
  while (deep.native().size() + 9 + 2 <= kMaxPathBytes) deep /= "abcdefgh";  // a name of 1 byte or more left
  const std::filesystem::path longest = deep / std::string(kMaxPathBytes - deep.native().size() - 1, 'n');
  ASSERT_EQ(longest.native().size(), kMaxPathBytes);
  EXPECT_NO_THROW(check_file_name_lengths(longest));
  EXPECT_NO_THROW(check_output_file(longest));
  const std::filesystem::path past = longest.native() + "x";
  for (const auto& check : {check_output_file, check_output_folder}) {
    try {
      check(past);
      FAIL() << "expected UserError";
    } catch (const UserError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("the path is " + std::to_string(kMaxPathBytes + 1) + " bytes long, and Linux takes 4095"),
                std::string::npos)
          << message;
      EXPECT_NE(message.find("'" + dir.string().substr(0, 20)), std::string::npos) << message;
      EXPECT_NE(message.find("…" + past.native().substr(past.native().size() - 100) + "'"), std::string::npos)
          << message;
      EXPECT_LT(message.size(), 600u) << message;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "abcdefgh"));
  // A short path is quoted whole; a long one cut at a character's start, never inside one.
  EXPECT_EQ(shown_path("/tmp/clip.mp4"), "/tmp/clip.mp4");
  std::string euros = "/";  // "€" is 3 bytes: both cut points (120 and 451 − 100) fall inside one
  for (int i = 0; i < 150; ++i) euros += "\xE2\x82\xAC";
  EXPECT_EQ(shown_path(euros), euros.substr(0, 118) + "…" + euros.substr(349));
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
