#include "core/library/generation_library.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <string_view>
#include <system_error>
#include <thread>

#include <unistd.h>

#include "core/io/bounded_json.h"
#include "core/io/atomic_file.h"
#include "core/io/unique_name.h"
#include "core/media/frame_archive.h"
#include "core/media/media_error.h"
#include "core/media/png_writer.h"
#include "core/media/video_reader.h"
#include "core/media/video_output.h"
#include "core/user_error.h"
#include "svgear/build_config.h"

namespace svgear {
namespace {

constexpr const char* kRecordFile = "record.json";
constexpr const char* kThumbnailFile = "thumbnail.png";
constexpr const char* kFramesFile = "frames.frames";
// A run record takes a few kilobytes (the request, the model's manifest, timings); a larger file is
// not one, and a listing must not read it whole (nor keep it: a megabyte of `[]` is ~35 MB parsed).
constexpr uintmax_t kMaxRecordBytes = 1 << 20;
// An entry is written in "<root>/.staging-<pid>-<random>" and renamed into place once whole.
constexpr std::string_view kStagingPrefix = ".staging-";
// An entry being deleted is renamed to "<root>/.deleting-<pid>-<random>" first: a deletion that
// fails midway leaves a hidden folder, not an entry without its record or video.
constexpr std::string_view kDeletingPrefix = ".deleting-";

std::string video_file_name() { return SVGEAR_HAVE_FFMPEG ? "video.mp4" : "video.y4m"; }

// What is left of an entry whose record.json went (deleted by hand): a folder by add()'s name
// ("20261129-074501-seed42", "-2" when taken; "undated-seed42") of the entry's own files and
// nothing else. The library's to list as damaged and to delete, unlike a folder of the user's own
// that merely lies in the library's folder (SVGEAR_LIBRARY=~/Videos), which it never touches.
bool is_entry_without_record(const std::filesystem::path& folder) {
  static const std::regex entry_name(R"((\d{8}-\d{6}|undated)-seed\d+(-\d+)?)");
  std::error_code ec;
  if (!std::regex_match(folder.filename().string(), entry_name)) return false;
  if (std::filesystem::is_symlink(folder, ec) || !std::filesystem::is_directory(folder, ec)) return false;
  int files = 0;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type;
    if (!it->is_regular_file(type) || it->is_symlink(type)) return false;
    if (name != "video.mp4" && name != "video.y4m" && name != kThumbnailFile && name != kFramesFile) return false;
    ++files;
  }
  return !ec && files > 0;
}

// The middle frame, box-averaged by the smallest whole factor that brings its longer side to
// kThumbnailMaxSide or less (832×480 → 208×120): the studio lists many entries at 96 px, and a
// full-size PNG per entry made each listing decode megapixels. Small frames stay as they are.
struct Thumbnail {
  std::vector<uint8_t> rgb;
  int height = 0, width = 0;
};

Thumbnail thumbnail_of(const Video& video) {
  const uint8_t* frame = video.frame(video.frames / 2);
  const int factor = (std::max(video.height, video.width) + kThumbnailMaxSide - 1) / kThumbnailMaxSide;
  Thumbnail t;
  t.height = std::max(1, video.height / factor);
  t.width = std::max(1, video.width / factor);
  t.rgb.resize(size_t(t.height) * t.width * 3);
  for (int y = 0; y < t.height; ++y) {
    for (int x = 0; x < t.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        int sum = 0, count = 0;
        for (int dy = 0; dy < factor && y * factor + dy < video.height; ++dy) {
          for (int dx = 0; dx < factor && x * factor + dx < video.width; ++dx) {
            sum += frame[(size_t(y * factor + dy) * video.width + x * factor + dx) * 3 + c];
            ++count;
          }
        }
        t.rgb[(size_t(y) * t.width + x) * 3 + c] = uint8_t((sum + count / 2) / count);
      }
    }
  }
  return t;
}

// "2026-11-29T07:45:01Z" → "20261129-074501"
std::string compact_time(const std::string& iso) {
  std::string digits;
  for (char c : iso) {
    if (c >= '0' && c <= '9') digits += c;
  }
  if (digits.size() < 14) return "undated";
  return digits.substr(0, 8) + "-" + digits.substr(8, 6);
}

}  // namespace

std::filesystem::path default_library_root() {
  if (const char* env = std::getenv("SVGEAR_LIBRARY"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "svgear" / "library";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".local" / "share" / "svgear" / "library";
}

GenerationLibrary::GenerationLibrary(std::filesystem::path root) : root_(std::move(root)) {}

std::string GenerationLibrary::write_problem() const {
  std::error_code ec;
  std::filesystem::path existing = root_.empty() ? std::filesystem::path(".") : root_;
  // A link to nothing is no folder add() can make (its parent may well be writable).
  if (std::filesystem::is_symlink(existing, ec) && !std::filesystem::exists(existing, ec)) {
    return existing.string() + " is a link to nothing";
  }
  while (!std::filesystem::exists(existing, ec)) {
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return "cannot reach " + existing.string() + ": " + ec.message();
    }
    existing = existing.has_relative_path() && existing.has_parent_path() ? existing.parent_path() : ".";
  }
  if (!std::filesystem::is_directory(existing, ec)) return existing.string() + " is not a folder";
  if (::access(existing.c_str(), W_OK | X_OK) != 0) {
    return "cannot write in " + existing.string() + ": " + std::strerror(errno);
  }
  return {};
}

LibraryEntry GenerationLibrary::add(const Video& video, const nlohmann::json& record) const {
  if (video.empty()) throw UserError("nothing to keep in the library: the video has no frames");
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) throw UserError("cannot create the library folder " + root_.string() + ": " + ec.message());
  remove_abandoned(root_, kStagingPrefix);  // a studio that quit or died while it wrote an entry
  remove_abandoned(root_, kDeletingPrefix);  // or while it deleted one

  std::string stem;
  try {
    if (!record.is_object()) throw UserError("cannot keep the run in the library: its record is not a JSON object");
    const uint64_t seed = record.value("request", nlohmann::json::object()).value("seed", uint64_t(0));
    stem = compact_time(record.value("created", "")) + "-seed" + std::to_string(seed);
  } catch (const nlohmann::json::exception& e) {
    throw UserError("cannot keep the run in the library: its record is malformed (" + json_error_text(e) + ")");
  }
  const std::filesystem::path staging = create_unique_folder(root_, kStagingPrefix, ec);
  if (ec) throw UserError("cannot write in the library folder " + root_.string() + ": " + ec.message());
  try {
    write_video(video, staging / video_file_name());
    if (video.rgb.size() <= kExactFramesMaxBytes) write_frame_archive(video, staging / kFramesFile);
    const Thumbnail thumbnail = thumbnail_of(video);
    write_png(staging / kThumbnailFile, thumbnail.rgb.data(), thumbnail.height, thumbnail.width);
    write_json_atomically(staging / kRecordFile, record);
    // A unique final name: two runs of one second and seed get -2, -3, ... The rename itself refuses
    // a taken name, so two studios adding at once cannot swap each other's entries.
    std::filesystem::path folder = root_ / stem;
    for (int n = 2; !rename_without_replacing(staging, folder, ec); ++n) {
      if (ec) throw UserError("cannot add to the library folder " + root_.string() + ": " + ec.message());
      folder = root_ / (stem + "-" + std::to_string(n));
    }
    sync_folder(root_);  // the entry's name, which a crash could otherwise lose with its files synced
    return read_library_entry(folder);
  } catch (...) {
    std::filesystem::remove_all(staging, ec);
    throw;
  }
}

LibraryEntry read_library_entry(const std::filesystem::path& folder) {
  LibraryEntry e;
  e.folder = folder;
  require_regular_file(folder / kRecordFile, "a library entry's record");  // the studio's listing reads it
  std::error_code ec;  // unreadable is as absent (a listing must not end on one entry's permissions)
  if (std::filesystem::file_size(folder / kRecordFile, ec) > kMaxRecordBytes && !ec) {
    throw UserError((folder / kRecordFile).string() + " is larger than any run record (" +
                    std::to_string(kMaxRecordBytes >> 20) + " MB)");
  }
  std::ifstream in(folder / kRecordFile);
  if (!in && errno == ENOENT) throw UserError(folder.string() + " is not a library entry (no " + kRecordFile + ")");
  // Not missing: its permissions, or the disk.
  if (!in) throw UserError("cannot read " + (folder / kRecordFile).string() + ": " + std::strerror(errno));
  try {
    e.record = parse_bounded_json(in);
  } catch (const nlohmann::json::exception&) {
    // not JSON: e.record stays null, refused below
  }
  if (!e.record.is_object()) {
    throw UserError((folder / kRecordFile).string() + " is not a readable run record");
  }
  // This build's kind first (add writes it), then the other's.
  const std::string written = video_file_name(), other = written == "video.mp4" ? "video.y4m" : "video.mp4";
  for (const std::string& name : {written, other}) {
    if (e.video.empty() && std::filesystem::is_regular_file(folder / name, ec)) e.video = folder / name;
  }
  if (std::filesystem::is_regular_file(folder / kFramesFile, ec)) e.exact_frames = folder / kFramesFile;
  if (std::filesystem::is_regular_file(folder / kThumbnailFile, ec)) e.thumbnail = folder / kThumbnailFile;
  // A field of the wrong type or range (a hand-edited record, another version's) throws
  // json::exception: a width of 1e300 or a seed of -1 is not converted into another number.
  try {
    const nlohmann::json request = e.record.value("request", nlohmann::json::object());
    const auto whole = [&](const char* key) { return request.contains(key) ? json_int(request[key], key) : 0; };
    e.created = e.record.value("created", "");
    e.prompt = request.value("prompt", "");
    if (request.contains("seed")) {
      require_json_field(request["seed"].is_number_unsigned(), "seed", "a whole number of at least 0", request["seed"]);
      e.seed = request["seed"].get<uint64_t>();
    }
    e.attention = request.value("attention", nlohmann::json::object()).value("mode", "");
    e.model = e.record.value("model", nlohmann::json::object()).value("name", "");
    e.model_folder = e.record.value("model", nlohmann::json::object()).value("folder", "");
    e.width = whole("width");
    e.height = whole("height");
    e.frames = whole("frames");
    e.steps = whole("steps");
  } catch (const nlohmann::json::exception& error) {
    throw UserError((folder / kRecordFile).string() + " is not a readable run record: " + json_error_text(error));
  }
  return e;
}

Video read_library_video(const LibraryEntry& entry, const CancelToken* cancel, size_t max_bytes,
                         std::string* fallback_note) {
  // Damaged or another clip's, the exact frames give way to the video: the same clip, a little
  // lossier, which whoever judges its quality must know.
  if (fallback_note) fallback_note->clear();
  std::string why;
  if (!entry.exact_frames.empty()) {
    try {
      Video frames = read_frame_archive(entry.exact_frames, max_bytes);
      // Another clip's (a folder copied or edited by hand) is not shown as this one.
      if (frames.frames == entry.frames && frames.height == entry.height && frames.width == entry.width) return frames;
      why = "they are " + std::to_string(frames.frames) + " frames of " + std::to_string(frames.width) + "x" +
            std::to_string(frames.height) + ", not this run's";
    } catch (const MediaError& e) {
      why = e.what();
    }
  }
  const std::string unusable =
      "the exact frames in " + entry.exact_frames.string() + " could not be used (" + why + ")";
  if (entry.video.empty()) {
    throw MediaError(why.empty() ? entry.folder.string() + " holds neither its video nor its frames"
                                 : unusable + " and the video is gone");
  }
  Video video;
  try {
    video = read_video(entry.video, cancel, max_bytes);
  } catch (const MediaError& e) {
    if (why.empty()) throw;
    throw MediaError(unusable + ", and " + e.what());  // both reasons: the frames' had been lost
  }
  crop_mp4_padding(video, entry.height, entry.width);
  if (fallback_note && !why.empty()) {
    *fallback_note = unusable + ": shown from " + entry.video.filename().string() + ", which its encoding made lossier";
  }
  return video;
}

bool listed_before(const LibraryEntry& a, const LibraryEntry& b) {
  return a.created != b.created ? a.created > b.created : a.folder.filename() > b.folder.filename();
}

std::vector<LibraryEntry> GenerationLibrary::entries(const std::set<std::filesystem::path>& known,
                                                     std::vector<std::string>* damaged) const {
  std::vector<LibraryEntry> found;
  std::error_code ec;
  // increment(ec), not ++: the error (EACCES, EIO, a stale NFS handle) is reported as a UserError.
  std::filesystem::directory_iterator it(root_, ec), end;
  if (ec == std::errc::no_such_file_or_directory) return found;  // no run kept yet
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_error;
    if (!it->is_directory(type_error) || name.empty() || name[0] == '.') continue;  // a link loop is not a folder
    if (known.count(it->path())) continue;
    try {
      found.push_back(read_library_entry(it->path()));
    } catch (const UserError& e) {
      // Not an entry (a user's own folder, or damaged): listings skip it, and say so of what is a run's.
      std::error_code record;
      if (!damaged) continue;
      if (std::filesystem::exists(it->path() / kRecordFile, record)) {
        damaged->push_back(e.what());
      } else if (is_entry_without_record(it->path())) {
        damaged->push_back(it->path().string() + " holds a run's files but its " + kRecordFile + " is gone");
      }
    }
  }
  if (ec) throw UserError("cannot list the library folder " + root_.string() + ": " + ec.message());
  std::sort(found.begin(), found.end(), listed_before);
  return found;
}

std::filesystem::path GenerationLibrary::detach(const LibraryEntry& entry) const {
  std::error_code ec;
  const auto root = std::filesystem::weakly_canonical(root_, ec);
  // The entry under its own name: a link in the library that names another entry goes, not what it
  // points to (which is listed, and deleted, under its own name).
  const auto name = entry.folder.filename();
  const auto folder = std::filesystem::weakly_canonical(entry.folder.parent_path(), ec) / name;
  // "<root>/.." passed the parent check with a record in the library's parent: only the kernel
  // refused to rename a folder ending in "..".
  if (name.empty() || name == "." || name == ".." || folder.parent_path() != root ||
      (!std::filesystem::exists(folder / kRecordFile, ec) && !is_entry_without_record(folder))) {
    throw UserError(entry.folder.string() + " is not an entry of the library in " + root_.string());
  }
  if (std::filesystem::is_symlink(folder, ec)) {
    std::filesystem::remove(folder, ec);
    if (ec) throw UserError("cannot delete " + folder.string() + ": " + ec.message());
    return {};
  }
  const std::filesystem::path doomed = root / (std::string(kDeletingPrefix) + unique_name_suffix());
  std::filesystem::rename(folder, doomed, ec);
  if (ec) throw UserError("cannot delete " + folder.string() + ": " + ec.message());
  return doomed;
}

void GenerationLibrary::purge_detached(const std::filesystem::path& detached) {
  if (detached.empty()) return;
  // An `rm -rf` of the entry racing this one goes on inside the renamed folder (it walks by open
  // folders, not names), so remove_all fails at a file it took (ENOENT), and the rm's last rmdir,
  // by the old name, fails too: an empty folder was left. Tried again once the rm is done (here:
  // one retry after 0.2 s took every such folder of 10 trials of 20,000 files). Other errors (a
  // permission, a read-only disk) would only fail again.
  std::error_code ec;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
    std::filesystem::remove_all(detached, ec);  // a folder already gone is no error
    if (ec != std::errc::no_such_file_or_directory) return;
  }
}

}  // namespace svgear
