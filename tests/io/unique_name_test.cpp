#include "core/io/unique_name.h"

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/support/test_paths.h"

namespace svgear {
namespace {

TEST(UniqueName, SuffixesStartWithThePidAndNeverRepeat) {
  const std::string pid = std::to_string(::getpid()) + "-";
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string suffix = unique_name_suffix();
    EXPECT_EQ(suffix.rfind(pid, 0), 0u) << suffix;
    EXPECT_EQ(suffix.size(), pid.size() + 16) << suffix;
    EXPECT_TRUE(seen.insert(suffix).second) << "repeated: " << suffix;
  }
}

TEST(UniqueName, FoldersAreNewAndAMissingParentIsReported) {
  const auto dir = test::scratch_dir("unique_folders");
  std::error_code ec;
  const auto a = create_unique_folder(dir, ".staging-", ec);
  ASSERT_FALSE(ec) << ec.message();
  std::ofstream(a / "mine") << "kept";
  const auto b = create_unique_folder(dir, ".staging-", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::filesystem::is_empty(b));
  EXPECT_TRUE(std::filesystem::exists(a / "mine"));  // the first writer's folder is left alone
  EXPECT_EQ(a.filename().string().rfind(".staging-" + std::to_string(::getpid()) + "-", 0), 0u);

  const auto none = create_unique_folder(dir / "missing", ".staging-", ec);
  EXPECT_TRUE(ec);
  EXPECT_TRUE(none.empty());
}

TEST(UniqueName, RenameRefusesATakenNameAndLeavesBothAsTheyWere) {
  const auto dir = test::scratch_dir("rename_without_replacing");
  std::filesystem::create_directories(dir / "staged");
  std::ofstream(dir / "staged" / "new") << "new";
  std::error_code ec;
  for (const char* taken : {"empty-folder", "full-folder", "file"}) {
    const auto target = dir / taken;
    if (std::string(taken) == "file") {
      std::ofstream(target) << "old";
    } else {
      std::filesystem::create_directories(target);
      if (std::string(taken) == "full-folder") std::ofstream(target / "old") << "old";
    }
    EXPECT_FALSE(rename_without_replacing(dir / "staged", target, ec)) << taken;
    EXPECT_FALSE(ec) << taken << ": " << ec.message();
    EXPECT_TRUE(std::filesystem::exists(dir / "staged" / "new")) << taken;
    EXPECT_FALSE(std::filesystem::exists(target / "new")) << taken;
  }
  EXPECT_TRUE(rename_without_replacing(dir / "staged", dir / "free", ec));
  EXPECT_FALSE(ec);
  EXPECT_TRUE(std::filesystem::exists(dir / "free" / "new"));
  EXPECT_FALSE(std::filesystem::exists(dir / "staged"));

  EXPECT_FALSE(rename_without_replacing(dir / "gone", dir / "elsewhere", ec));
  EXPECT_TRUE(ec);  // a missing source is an error, not a taken name
}

TEST(UniqueName, AbandonedFoldersOfDeadProcessesAreRemovedLiveOnesKept) {
  const auto dir = test::scratch_dir("remove_abandoned");
  const std::string live = ".staging-" + std::to_string(::getpid()) + "-00000000000000aa";
  // Linux pids stay below 2^22: this process cannot exist.
  const auto hour_ago = std::filesystem::file_time_type::clock::now() - kAbandonedAfter - std::chrono::minutes(1);
  for (const std::string& name : {live, std::string(".staging-999999999-0000000000000001"), std::string(".staging-junk"),
                                 std::string("other-999999999-1")}) {
    std::filesystem::create_directories(dir / name / "partial");
    std::filesystem::last_write_time(dir / name, hour_ago);
  }
  // A dead pid's folder written just now may be another pid namespace's writer at work: it stays.
  std::filesystem::create_directories(dir / ".staging-999999998-0000000000000002");
  remove_abandoned(dir, ".staging-");
  EXPECT_TRUE(std::filesystem::exists(dir / ".staging-999999998-0000000000000002"));
  EXPECT_TRUE(std::filesystem::exists(dir / live));
  EXPECT_FALSE(std::filesystem::exists(dir / ".staging-999999999-0000000000000001"));
  EXPECT_TRUE(std::filesystem::exists(dir / ".staging-junk"));  // not a writer's name: someone else's
  EXPECT_TRUE(std::filesystem::exists(dir / "other-999999999-1"));  // not ours: another prefix
  remove_abandoned(dir / "missing", ".staging-");                   // nothing to list: no error
}

// In a folder its caller holds locked: the temporary files of the names it writes go at once,
// whatever their pid (a killed training save's shards had stayed for good; in a container every
// run may be pid 1, this one's too); other names stay.
TEST(UniqueName, KilledWritersTempFilesOfOurNamesAreRemoved) {
  const auto dir = test::scratch_dir("remove_killed");
  const std::vector<std::string> kept = {"notes.txt.tmp-999999999-0000000000000001", "loss.tsv.tmp-junk", "loss.tsv"};
  const std::vector<std::string> removed = {"loss.tsv.tmp-999999999-0000000000000002",
                                            "loss.tsv.tmp-1-00000000000000ff",
                                            "loss.tsv.tmp-" + std::to_string(::getpid()) + "-00000000000000aa"};
  for (const auto& names : {kept, removed}) {
    for (const std::string& name : names) std::ofstream(dir / name) << "x";
  }
  remove_killed_writers_temp_files(dir, [](std::string_view base) { return base == "loss.tsv"; });
  for (const std::string& name : kept) EXPECT_TRUE(std::filesystem::exists(dir / name)) << name;
  for (const std::string& name : removed) EXPECT_FALSE(std::filesystem::exists(dir / name)) << name;
  remove_killed_writers_temp_files(dir / "missing", [](std::string_view) { return true; });  // no error
}

}  // namespace
}  // namespace svgear
