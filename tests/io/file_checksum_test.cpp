#include "core/io/file_checksum.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/test_paths.h"

namespace svgear {
namespace {

// FNV-1a 64 as published (the empty input is the offset basis; "a" and "foobar" are the reference
// test vectors), over chunk boundaries too, and nothing for a file that cannot be read.
TEST(FileChecksum, IsFnv1a64OfTheBytes) {
  const auto dir = test::scratch_dir("file_checksum");
  const auto checksum_of = [&](const std::string& bytes) {
    std::ofstream(dir / "f", std::ios::binary) << bytes;
    return file_checksum(dir / "f");
  };
  EXPECT_EQ(checksum_of(""), "fnv1a64:cbf29ce484222325");
  EXPECT_EQ(checksum_of("a"), "fnv1a64:af63dc4c8601ec8c");
  EXPECT_EQ(checksum_of("foobar"), "fnv1a64:85944171f73967e8");
  const std::string large(3u << 20, 'x');  // three 1 MiB chunks
  const std::optional<std::string> whole = checksum_of(large);
  EXPECT_NE(checksum_of(large.substr(1) + "y"), whole);
  EXPECT_EQ(checksum_of(large), whole);
  EXPECT_EQ(file_checksum(dir / "missing"), std::nullopt);
}

}  // namespace
}  // namespace svgear
