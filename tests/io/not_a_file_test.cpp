#include "core/io/not_a_file.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/test_paths.h"

namespace svgear {
namespace {

namespace fs = std::filesystem;

// Every kind of name that is there without a file to read, each said as what it is; a file, a link
// to one and a name that is not there are none of them.
TEST(NotAFile, SaysWhatANameHoldsInsteadOfAFile) {
  const fs::path dir = test::scratch_dir("not_a_file");
  std::ofstream(dir / "real.safetensors") << "x";
  fs::create_symlink(dir / "real.safetensors", dir / "link.safetensors");
  fs::create_symlink("/nonexistent/blob", dir / "broken.safetensors");
  fs::create_symlink(dir / "loop-b.safetensors", dir / "loop-a.safetensors");
  fs::create_symlink(dir / "loop-a.safetensors", dir / "loop-b.safetensors");
  fs::create_directory(dir / "folder.safetensors");
  ASSERT_EQ(::mkfifo((dir / "fifo.safetensors").c_str(), 0600), 0);
  fs::create_symlink("/dev/null", dir / "device.safetensors");
  std::ofstream(dir / "notes.txt") << "x";
  fs::create_symlink("/nonexistent/notes", dir / "broken.txt");

  EXPECT_EQ(why_not_a_file(dir / "real.safetensors"), "");
  EXPECT_EQ(why_not_a_file(dir / "link.safetensors"), "");
  EXPECT_EQ(why_not_a_file(dir / "absent.safetensors"), "");
  EXPECT_EQ(why_not_a_file(dir / "broken.safetensors"), "a broken link to /nonexistent/blob");
  EXPECT_EQ(why_not_a_file(dir / "loop-a.safetensors"), "a link loop");
  EXPECT_EQ(why_not_a_file(dir / "folder.safetensors"), "a folder");
  EXPECT_EQ(why_not_a_file(dir / "fifo.safetensors"), "a FIFO");
  EXPECT_EQ(why_not_a_file(dir / "device.safetensors"), "a device");

  const std::string sentence =
      entries_not_files({dir, dir / "absent"}, [](const fs::path& p) { return p.extension() == ".safetensors"; });
  const std::string d = dir.string() + "/";
  EXPECT_EQ(sentence, " There, but not files: " + d + "broken.safetensors (a broken link to /nonexistent/blob), " +
                          d + "device.safetensors (a device), " + d + "fifo.safetensors (a FIFO), " + d +
                          "folder.safetensors (a folder), " + d + "loop-a.safetensors (a link loop), " + d +
                          "loop-b.safetensors (a link loop).");
  EXPECT_EQ(entries_not_files({dir}, [](const fs::path& p) { return p.filename() == "notes.txt"; }), "");
}

}  // namespace
}  // namespace svgear
