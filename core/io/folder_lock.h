#pragma once
// FolderLock: an exclusive lock on a folder, held by one process while it writes there (a training
// run's --out). Two runs on one folder would interleave their checkpoints, and one's clean-up
// would delete the shards the other's state.json names. flock(2) on the folder itself: nothing is
// added to the folder, and the kernel drops the lock when the process ends, however it ends.

#include <chrono>
#include <filesystem>
#include <string>

namespace svgear {

class FolderLock {
 public:
  // Throws UserError naming `folder` and `holder` ("another `svgear train`") when another open
  // lock holds it, or when the folder cannot be opened. A file system that takes no locks gives
  // no lock and no error.
  FolderLock(const std::filesystem::path& folder, const std::string& holder);
  // Waits up to `patience` for another holder to let go (a run committing its files there), then
  // goes on without the lock: it orders two runs' writes of one name, and a run's result must not
  // be lost to a holder that keeps the folder for hours (a training run's). A folder that cannot be
  // opened gives no lock either. Never throws.
  FolderLock(const std::filesystem::path& folder, std::chrono::milliseconds patience);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  bool held() const { return fd_ >= 0; }  // false where the file system took no lock

 private:
  int fd_ = -1;
};

}  // namespace svgear
