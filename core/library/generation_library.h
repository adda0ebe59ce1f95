#pragma once
// GenerationLibrary: every finished generation kept in a folder of its own — the video, its run
// record (the resolved request: enough to reproduce it) and a thumbnail — so the studio can list
// past runs, show them again and reload their settings. Qt-free and LibTorch-free.
//
//   GenerationLibrary library(default_library_root());
//   LibraryEntry e = library.add(video, run_record);        // <root>/20261129-074501-seed42/
//   for (const LibraryEntry& entry : library.entries()) ... // newest first
//
// An entry folder holds video.mp4 (video.y4m in a build without FFmpeg), record.json and
// thumbnail.png (the middle frame, box-averaged to at most kThumbnailMaxSide pixels a side); a clip
// of at most kExactFramesMaxBytes also its frames exactly, frames.frames (core/media/frame_archive.h):
// H.264's 4:2:0 colour at crf 18 is ~30 dB from a 64×64 shapes clip, its hard colour edges blurred,
// so a reopened run would not look as generated. It is
// assembled under a hidden temporary name and renamed into place, so a listing never sees half an
// entry; folders without a readable record.json are skipped. An entry whose video and frames were
// deleted by hand stays listed (clip_gone()): its record still reloads the run's settings.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cancel_token.h"
#include "core/media/video.h"

namespace svgear {

inline constexpr int kThumbnailMaxSide = 256;
// A built-in model's clips take kilobytes to a few MB as a frame archive; a Wan clip (~100 MB of RGB
// at 480p) keeps only its MP4.
inline constexpr size_t kExactFramesMaxBytes = size_t(16) << 20;

struct LibraryEntry {
  std::filesystem::path folder;
  std::filesystem::path video;         // empty when it is gone (or not a regular file)
  std::filesystem::path exact_frames;  // the frames as generated, when the entry has them (else empty)
  std::filesystem::path thumbnail;
  nlohmann::json record;  // the run record (core/pipeline/run_record.h)
  // From the record, for listings:
  std::string created;    // UTC, ISO 8601
  std::string prompt;
  std::string model;
  std::string model_folder;  // where it was loaded from (two folders may hold models of one name)
  std::string attention;  // dense, svg2, svgear
  uint64_t seed = 0;
  int width = 0, height = 0, frames = 0, steps = 0;

  bool clip_gone() const { return video.empty() && exact_frames.empty(); }
};

// $SVGEAR_LIBRARY, else $XDG_DATA_HOME/svgear/library, else ~/.local/share/svgear/library.
std::filesystem::path default_library_root();

class GenerationLibrary {
 public:
  explicit GenerationLibrary(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  // Throws UserError (folder not writable, disk full) or MediaError; nothing is left behind then.
  LibraryEntry add(const Video& video, const nlohmann::json& record) const;
  // Why add() could not write here, for saying so before a run ends (empty when it can): the folder,
  // or the nearest one above it that exists, is not a folder or not writable (a read-only mount,
  // another user's folder). Permissions only: a full disk shows at add().
  std::string write_problem() const;
  // Newest first; folders that are no entries are skipped, and so are those in `known` (not read:
  // a listing that has them already asks only for the new ones). `damaged`, when given, gets each
  // skipped folder that holds a record.json which does not read, or an entry's files alone without
  // their record.json, with why (a run whose record was cut short or deleted is not a user's own
  // folder, and should not vanish without a word). Throws UserError when the folder exists but
  // cannot be listed.
  std::vector<LibraryEntry> entries(const std::set<std::filesystem::path>& known = {},
                                    std::vector<std::string>* damaged = nullptr) const;
  // Deletes an entry folder of this library (and nothing outside it; a link in the library that
  // names an entry goes itself, not the folder it names), also one whose record.json went but which
  // holds only an entry's files: detach() then purge_detached(). Throws UserError.
  void remove(const LibraryEntry& entry) const { purge_detached(detach(entry)); }
  // Takes an entry out of the library at once: renames its folder to a hidden name, so a deletion
  // stopped midway never leaves half an entry listed, and returns that name (empty for a link,
  // which is removed itself). A few metadata operations, where deleting the files may take long
  // (a network mount): the studio purges on the thread pool. Throws UserError.
  std::filesystem::path detach(const LibraryEntry& entry) const;
  // Deletes what detach() returned, trying again for up to 3 s while another program deletes the
  // same files (ENOENT); files that refuse to go stay hidden until a later add()
  // removes them, once this process has ended. Never throws.
  static void purge_detached(const std::filesystem::path& detached);

 private:
  std::filesystem::path root_;
};

// Reads an entry folder; throws UserError when it is not one (no readable record.json).
LibraryEntry read_library_entry(const std::filesystem::path& folder);

// The entry's clip as generated: its exact frames when it has them and they read back whole, else
// its video decoded (an MP4's padding to even sides cropped); then `fallback_note`, when given, says
// why the exact frames were passed over (empty when they were shown or the entry has none). Throws
// MediaError, also when neither can be read because the video is gone (naming what was wrong with
// each); `cancel` stops a decode at its next frame.
Video read_library_video(const LibraryEntry& entry, const CancelToken* cancel, size_t max_bytes,
                         std::string* fallback_note = nullptr);

// The listing's order: newer first, then by folder name (two runs in one second).
bool listed_before(const LibraryEntry& a, const LibraryEntry& b);

}  // namespace svgear
