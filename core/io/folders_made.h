#pragma once
// FoldersMade: the folders a command is about to make for its output folder, each missing prefix
// of the path as typed (named parts only: "a/b/." and "a/../c" make a, b and c), to remove again,
// deepest first, when the command ends having written nothing in them (a cancel, a full disk):
// an empty folder left behind reads as a result that is not there.

#include <filesystem>
#include <vector>

namespace svgear {

class FoldersMade {
 public:
  explicit FoldersMade(const std::filesystem::path& folder);  // before the folders are made
  void remove_empty() const;  // those of them still empty; never throws

 private:
  std::vector<std::filesystem::path> missing_;
};

}  // namespace svgear
