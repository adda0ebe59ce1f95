#include "core/io/atomic_file.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/io/unique_name.h"
#include "core/user_error.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t count_files(const std::filesystem::path& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(AtomicFile, CommitReplacesTheFileInOneStep) {
  const auto dir = test::scratch_dir("atomic_commit");
  write_file_atomically(dir / "a.txt", "old");
  {
    AtomicFile file(dir / "a.txt");
    file.write("new content");
    EXPECT_EQ(read_all(dir / "a.txt"), "old");  // readers still see the old file
    EXPECT_EQ(count_files(dir), 2u);
    file.commit();
  }
  EXPECT_EQ(read_all(dir / "a.txt"), "new content");
  EXPECT_EQ(count_files(dir), 1u);
}

// An export is swapped in whole; a file or a link by the folder's name is refused, not swapped out
// and deleted (the link's target kept the stale export, the file was lost).
TEST(ReplaceFolder, SwapsAFolderAndRefusesAFileOrALink) {
  const auto dir = test::scratch_dir("replace_folder");
  const auto stage = [&](const std::string& content) {
    const auto staged = dir / ".staged";
    std::filesystem::create_directories(staged);
    write_file_atomically(staged / "model.json", content);
    return staged;
  };
  replace_folder(stage("first"), dir / "model");  // nothing there yet: a rename
  replace_folder(stage("second"), dir / "model");
  EXPECT_EQ(read_all(dir / "model" / "model.json"), "second");
  EXPECT_FALSE(std::filesystem::exists(dir / ".staged"));

  write_file_atomically(dir / "kept.txt", "the user's");
  std::filesystem::create_directories(dir / "elsewhere");
  std::filesystem::create_directory_symlink(dir / "elsewhere", dir / "linked");
  for (const char* name : {"kept.txt", "linked"}) {
    EXPECT_THROW(replace_folder(stage("third"), dir / name), UserError) << name;
    std::filesystem::remove_all(dir / ".staged");
  }
  EXPECT_EQ(read_all(dir / "kept.txt"), "the user's");
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "linked"));
}

// A cancelled run's trace goes to its "-partial" name: the name first given keeps what it held,
// and a link by the other name is refused, not replaced.
TEST(AtomicFile, CommitsUnderAnotherNameInTheSameFolder) {
  const auto dir = test::scratch_dir("atomic_commit_as");
  write_file_atomically(dir / "trace.json", "earlier");
  {
    AtomicFile file(dir / "trace.json");
    file.write("cut short");
    file.commit_as(dir / "trace-partial.json");
    EXPECT_EQ(file.path(), dir / "trace-partial.json");
  }
  EXPECT_EQ(read_all(dir / "trace.json"), "earlier");
  EXPECT_EQ(read_all(dir / "trace-partial.json"), "cut short");
  EXPECT_EQ(count_files(dir), 2u);

  std::filesystem::create_symlink(dir / "trace.json", dir / "linked.json");
  {
    AtomicFile file(dir / "other.json");
    file.write("x");
    EXPECT_THROW(file.commit_as(dir / "linked.json"), UserError);
  }
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "linked.json"));
  EXPECT_EQ(read_all(dir / "trace.json"), "earlier");
  EXPECT_FALSE(std::filesystem::exists(dir / "other.json"));
  EXPECT_EQ(count_files(dir), 3u);  // the two files and the link (to a file): no temporary left
}

TEST(AtomicFile, AbandonedWriteLeavesNothingBehind) {
  const auto dir = test::scratch_dir("atomic_abandon");
  write_file_atomically(dir / "keep.txt", "precious");
  {
    AtomicFile file(dir / "keep.txt");
    file.write("half");
  }  // destroyed without commit, as when an exception unwinds
  EXPECT_EQ(read_all(dir / "keep.txt"), "precious");
  EXPECT_EQ(count_files(dir), 1u);
}

// A writer killed outright (no destructor ran) leaves its temporary file; the next write to that
// path removes it once its process is gone and an hour has passed, and nothing else.
TEST(AtomicFile, AKilledWritersTemporaryFileIsRemovedByTheNextWrite) {
  const auto dir = test::scratch_dir("atomic_killed");
  const auto hour_ago = std::filesystem::file_time_type::clock::now() - kAbandonedAfter - std::chrono::minutes(1);
  // Linux pids stay below 2^22: these processes cannot exist.
  const std::vector<std::string> dead = {"clip.mp4.tmp-999999999-00000000000000ab"};
  const std::vector<std::string> kept = {"clip.mp4.tmp-notes", "other.mp4.tmp-999999999-00000000000000ab",
                                         "clip.mp4.tmp-" + std::to_string(::getpid()) + "-00000000000000cd"};
  for (const auto& names : {dead, kept}) {
    for (const std::string& name : names) {
      std::ofstream(dir / name) << "half";
      std::filesystem::last_write_time(dir / name, hour_ago);
    }
  }
  write_file_atomically(dir / "clip.mp4", "whole");
  EXPECT_EQ(read_all(dir / "clip.mp4"), "whole");
  for (const std::string& name : dead) EXPECT_FALSE(std::filesystem::exists(dir / name)) << name;
  for (const std::string& name : kept) EXPECT_TRUE(std::filesystem::exists(dir / name)) << name;
}

// A rename that fails leaves the file open for another try; a second commit is a bug, not a crash.
TEST(AtomicFile, ACommitThatFailedCanBeTriedAgain) {
  const auto dir = test::scratch_dir("atomic_retry");
  AtomicFile file(dir / "clip.json");
  file.write("whole");
  std::filesystem::create_directories(dir / "in-the-way" / "inside");  // a non-empty folder: the rename fails
  try {
    file.commit_as(dir / "in-the-way");
    ADD_FAILURE() << "renamed over a folder";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot replace '"), std::string::npos) << e.what();
  }
  // A new name the file system refuses replaces nothing, and is not said to.
  const std::filesystem::path too_long = dir / (std::string(300, 'L') + ".json");
  try {
    file.commit_as(too_long);
    ADD_FAILURE() << "a 305-byte name";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("cannot write '", 0), 0u) << e.what();
  }
  file.commit();
  EXPECT_EQ(read_all(dir / "clip.json"), "whole");
  EXPECT_THROW(file.commit(), std::logic_error);
}

TEST(AtomicFile, CreatesMissingFoldersAndReportsUnwritablePaths) {
  const auto dir = test::scratch_dir("atomic_paths");
  write_file_atomically(dir / "x" / "y" / "z.txt", "deep");
  EXPECT_EQ(read_all(dir / "x" / "y" / "z.txt"), "deep");
  write_file_atomically(dir / "file", "");
  try {
    write_file_atomically(dir / "file" / "below-a-file.txt", "x");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("below-a-file.txt"), std::string::npos) << e.what();
  }
}

// Records hold folder names, which need not be UTF-8: the record is still written, the bad byte
// as U+FFFD, the rest as given.
TEST(AtomicFile, JsonWithBytesThatAreNotUtf8IsStillWritten) {
  const auto dir = test::scratch_dir("atomic_json");
  write_json_atomically(dir / "record.json", nlohmann::json{{"model", "models/m\xff"}, {"steps", 3}});
  const std::string text = read_all(dir / "record.json");
  EXPECT_EQ(text, "{\n  \"model\": \"models/m\xef\xbf\xbd\",\n  \"steps\": 3\n}\n");
  EXPECT_THROW(check_output_file(dir), UserError);  // a folder by that name
  EXPECT_NO_THROW(check_output_file(dir / "new" / "x.json"));
  // "res/" names a folder even when none exists: the write would fail after the work.
  EXPECT_THROW(check_output_file(dir / "new" / ""), UserError);
  // A link is not written through: the rename would replace the link, not its target.
  std::filesystem::create_symlink(dir / "record.json", dir / "link.json");
  EXPECT_THROW(check_output_file(dir / "link.json"), UserError);
  EXPECT_THROW(write_file_atomically(dir / "link.json", "x"), UserError);
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "link.json"));
  EXPECT_FALSE(std::filesystem::exists(dir / "new"));  // checks create nothing
}

// A folder that exists and passes access(W_OK) for root can still refuse files: /proc does (for
// other users access() refused it already, so only a run as root tells the probe from access()).
TEST(AtomicFile, AFolderThatTakesNoFilesIsRefusedUpFront) {
  if (!std::filesystem::is_directory("/proc/self")) GTEST_SKIP() << "no /proc on this system";
  try {
    check_output_file("/proc/version.mp4");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write in /proc"), std::string::npos) << e.what();
    // Its errno for root, ENOENT, had read "No such file or directory" beside "refuses new files" (for
    // other users it is EACCES, "no permission", and this holds either way).
    EXPECT_EQ(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  const auto dir = test::scratch_dir("atomic_probe");
  check_output_folder(dir);
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "the check leaves its test file behind";
}

}  // namespace
}  // namespace svgear
