#pragma once
// The dense reference of a compare, kept on disk so that comparing another sparse setting of the
// same request does not pay for dense again. A dense run stands in for a new one when its run
// record matches on the resolved request (without the attention settings and previews, which do
// not change a dense video), the model, the device and the dtype. Beside the record: the video
// (`svgear compare`'s dense.mp4) and the frames as generated, exactly (dense.frames, a frame
// archive), against which a compare measures the attention's effect without H.264's loss.
// `svgear compare` keeps all three in its output folder; the studio keeps the record and the
// frames in one folder per request under its cache root, trimmed to a size.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/media/video.h"

namespace svgear {

struct GenerationRequest;
struct Model;

// The frames file beside a cached run's record.
inline constexpr const char* kDenseFramesFile = "dense.frames";

struct CachedDenseRun {
  std::filesystem::path video_path;  // <dir>/dense.mp4, or dense.y4m from the FFmpeg-less fallback
  nlohmann::json record;
  Video video;   // decoded from video_path, at the record's size (no MP4 padding)
  Video frames;  // dense.frames: the frames before encoding
};

// What must match, taken from a run record.
nlohmann::json dense_cache_key(const nlohmann::json& record);
// The key the dense run of `dense_request` (resolved) on `model` will have once it has run.
nlohmann::json dense_cache_key(const GenerationRequest& dense_request, const Model& model);

// The finished dense run in `dir` (dense.json beside its video) whose key is `wanted`, video and
// frames read; nullopt when there is none, its record is unreadable, it failed, or it was
// made for something else; also when its video or its frames are missing or cannot be read
// (damaged, truncated), and then `note` (when given) says so: the caller runs it again, which
// replaces both. (A run reused without its frames had left every later compare without its
// measure before encoding, until --no-cache.)
std::optional<CachedDenseRun> find_cached_dense_run(const std::filesystem::path& dir, const nlohmann::json& wanted,
                                                    std::string* note = nullptr);

// The studio's form: the record and the frames of the matching run in `dir`, no video; nullopt
// (with a note when they are damaged) as above. A hit counts as a use for trim_dense_cache.
struct CachedDenseFrames {
  nlohmann::json record;
  Video frames;
};
std::optional<CachedDenseFrames> find_cached_dense_frames(const std::filesystem::path& dir,
                                                          const nlohmann::json& wanted, std::string* note = nullptr);
// Keeps `frames` and `record` in `dir` for find_cached_dense_frames. The record goes last and the
// old one first, so a write cut short leaves no record naming frames it does not describe.
void keep_dense_frames(const std::filesystem::path& dir, const Video& frames, const nlohmann::json& record);

// The studio's cache root holds one folder per request, named from its key.
std::filesystem::path dense_cache_folder(const std::filesystem::path& root, const nlohmann::json& key);

struct DenseCacheUsage {
  int runs = 0;
  uintmax_t bytes = 0;
};
DenseCacheUsage dense_cache_usage(const std::filesystem::path& root);
// Removes the least recently used runs under `root` until they take at most `max_bytes`; `keep`
// (the run just made) stays whatever its size.
void trim_dense_cache(const std::filesystem::path& root, uintmax_t max_bytes, const std::filesystem::path& keep);
// Removes every cached run under `root` (only the folders dense_cache_folder names) and says what
// it removed. Throws UserError when one cannot be removed.
DenseCacheUsage clear_dense_cache(const std::filesystem::path& root);

// The mean of a run record's timings_ms.steps after the first (the first alone for a one-step
// run; 0 without steps): a run's first step carries the process's one-time costs when it is the
// process's first run (compare's dense run, or its sparse run beside a reused dense one) and
// cuDNN's plans for a new shape, which made per-step speedups favour whichever ran second. A
// sparse run's cold k-means stays in unless it has no dense warm-up step before it.
double mean_step_ms_after_first(const nlohmann::json& record);

// A run record's whole time less its text encoding: the first run of a prompt pays that (a Wan
// umT5, reloaded when freed after encoding), the second finds the prompt cached, and a ratio of
// whole times would credit it to attention.
double total_ms_without_text_encoding(const nlohmann::json& record);

}  // namespace svgear
