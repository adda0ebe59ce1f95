#include "core/pipeline/dense_run_cache.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <string_view>
#include <vector>

#include "core/io/atomic_file.h"
#include "core/io/bounded_json.h"
#include "core/io/file_checksum.h"
#include "core/media/frame_archive.h"
#include "core/media/video_output.h"
#include "core/media/video_reader.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/run_record.h"
#include "core/user_error.h"

namespace svgear {

nlohmann::json dense_cache_key(const nlohmann::json& record) {
  nlohmann::json request = record.at("request");
  request.erase("attention");
  request.erase("preview_every");
  const nlohmann::json& device = record.at("device");
  const nlohmann::json& model = record.at("model");
  // The model's folder (however it was typed) and its files' sizes and times besides its
  // model.json: two folders of one architecture (two random-model seeds, a retrained copy) share
  // the latter. A Wan model's text encoder and VAE places too, and how the VAE covers the frames
  // (whole on a GPU since 2026-12-04, so no earlier GPU record matches): they change the video, as
  // a DiT quantised to fp8 at load changes its weights.
  std::error_code ec;
  const std::filesystem::path folder = std::filesystem::weakly_canonical(model.value("folder", ""), ec);
  // The device by what it is, not only its name (cuda:0 is another GPU on another machine of a
  // shared home; the CPU's entry counts its threads), and the build: the dense timings are the
  // speedup's other half.
  return {{"request", request},
          {"model", model.at("manifest")},
          {"folder", folder.string()},
          {"files", model.value("files", nlohmann::json::array())},
          {"device", device.at("name")},
          {"device_description", device.value("description", "")},
          {"dtype", device.at("dtype")},
          {"text_encoder", device.value("text_encoder", "")},
          {"vae", device.value("vae", "")},
          // Records from before vae_frames: a CPU VAE tiled as it does now; a GPU's decoded in bf16.
          {"vae_frames", device.value("vae_frames", device.value("vae", "") == "cpu" ? "tiles" : "")},
          {"dit_fp8", device.value("dit_fp8", false)},
          {"software", record.value("software", nlohmann::json::object())}};
}

nlohmann::json dense_cache_key(const GenerationRequest& dense_request, const Model& model) {
  GenerationResult probe;  // only to build the record the run would have
  probe.status = GenerationStatus::Finished;
  probe.request = dense_request;
  return dense_cache_key(make_run_record(probe, model));
}

namespace {

constexpr const char* kRecordFile = "dense.json";
constexpr std::string_view kFolderPrefix = "dense-";

// How the key of a kept run (`kept`) differs from `wanted`, in words: "seed 5 there, 6 here; device
// CPU (…, 2 threads) there, CPU (…, 1 thread) here". Values too long or not plain (the model's
// manifest, its files) are named only.
std::string key_difference(const nlohmann::json& kept, const nlohmann::json& wanted) {
  const auto plain = [](const nlohmann::json& value) {
    return (value.is_string() || value.is_number() || value.is_boolean()) &&
           (value.is_string() ? value.get<std::string>() : value.dump()).size() <= 80;
  };
  const auto text = [](const nlohmann::json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); };
  std::vector<std::string> parts;
  const auto compare = [&](const nlohmann::json& there, const nlohmann::json& here, const std::string& label) {
    if (there == here) return;
    parts.push_back(plain(there) && plain(here) ? label + " " + text(there) + " there, " + text(here) + " here"
                                                : label + " differs");
  };
  static const std::map<std::string, std::string> labels = {
      {"device_description", "device"}, {"files", "the model's file list"}, {"model", "the model"},
      {"folder", "model folder"},       {"software", "the build"},       {"text_encoder", "text encoder's device"},
      {"vae", "VAE's device"},          {"vae_frames", "VAE's frames"},  {"dit_fp8", "fp8 diffusion model"}};
  for (auto it = wanted.begin(); it != wanted.end(); ++it) {
    const nlohmann::json there = kept.contains(it.key()) ? kept[it.key()] : nlohmann::json();
    if (it.key() == "request" && there.is_object() && it.value().is_object()) {
      nlohmann::json fields = there;
      fields.update(it.value());  // every field of either
      for (auto field = fields.begin(); field != fields.end(); ++field) {
        compare(there.value(field.key(), nlohmann::json()), it.value().value(field.key(), nlohmann::json()), field.key());
      }
      continue;
    }
    if (it.key() == "device" && kept.value("device_description", "") != wanted.value("device_description", "")) continue;
    const auto label = labels.find(it.key());
    compare(there, it.value(), label == labels.end() ? it.key() : label->second);
  }
  std::string joined;
  for (const std::string& part : parts) joined += (joined.empty() ? "" : "; ") + part;
  return joined;
}

// The finished run recorded in `dir` when its key is `wanted`. Otherwise nullopt, and `note`, when
// given, says why a record there is not taken (another request or device, a run that did not finish).
std::optional<nlohmann::json> matching_record(const std::filesystem::path& dir, const nlohmann::json& wanted,
                                              std::string* note) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / kRecordFile, ec)) return std::nullopt;  // a FIFO would block
  std::ifstream file(dir / kRecordFile);
  if (!file.good()) return std::nullopt;
  try {
    nlohmann::json record = parse_bounded_json(file);
    const nlohmann::json& status = record.at("status");
    if (status != "finished") {
      if (note) {
        *note = "the dense run in " + dir.string() + " did not finish (" +
                (status.is_string() ? status.get<std::string>() : status.dump()) + "): running dense";
      }
      return std::nullopt;
    }
    // The key leaves the attention settings out, as they do not change a dense video: a sparse run
    // saved as dense.mp4 (by generate) would otherwise stand in for dense, and compare it with itself.
    const nlohmann::json& mode = record.at("request").at("attention").at("mode");
    if (mode != "dense") {
      if (note) *note = "the run in " + dir.string() + " is not dense (mode " + mode.dump() + "): running dense";
      return std::nullopt;
    }
    const nlohmann::json key = dense_cache_key(record);
    if (key != wanted) {
      if (note) *note = "the dense run in " + dir.string() + " is another run's (" + key_difference(key, wanted) + "): running dense";
      return std::nullopt;
    }
    // What a compare reads of the record later (the video's size, the step times), checked here:
    // a damaged field makes it no hit, not an error after the sparse run has replaced its files.
    const nlohmann::json& video = record.at("video");
    for (const char* side : {"frames", "height", "width"}) {
      const nlohmann::json& value = video.at(side);
      require_json_field(is_int_number(value) && value.get<int>() > 0, std::string("video.") + side,
                         "a positive whole number", value);
    }
    const nlohmann::json& timings = record.at("timings_ms");
    const nlohmann::json& steps = timings.at("steps");
    const auto step_time = [](const nlohmann::json& t) {
      return t.is_number() && std::isfinite(t.get<double>()) && t.get<double>() >= 0.0;
    };
    const bool times = steps.is_array() && !steps.empty() && std::all_of(steps.begin(), steps.end(), step_time);
    require_json_field(times, "timings_ms.steps", "a list of step times in ms", steps);
    require_json_field(timings.at("total").is_number(), "timings_ms.total", "a time in ms", timings.at("total"));
    if (timings.contains("text_encode")) {
      require_json_field(timings["text_encode"].is_number(), "timings_ms.text_encode", "a time in ms",
                         timings["text_encode"]);
    }
    return record;
  } catch (const nlohmann::json::exception& e) {
    if (note) {
      *note = "the dense run's record in " + dir.string() + " cannot be used (" + json_error_text(e) + "): running dense";
    }
    return std::nullopt;
  }
}

// The frames, height and width of the video a run record describes (-1 where it says none).
std::array<int, 3> described_video(const nlohmann::json& record) {
  const nlohmann::json& made = record.value("video", nlohmann::json::object());
  return {made.value("frames", -1), made.value("height", -1), made.value("width", -1)};
}

bool holds_described_video(const Video& video, const nlohmann::json& record) {
  return described_video(record) == std::array<int, 3>{video.frames, video.height, video.width};
}

// The frames kept beside `record`, or nullopt with `why` when they are missing, damaged or not the
// video the record describes.
std::optional<Video> read_kept_frames(const std::filesystem::path& dir, const nlohmann::json& record, std::string& why) {
  const std::filesystem::path path = dir / kDenseFramesFile;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    why = "has no frames kept beside it";
    return std::nullopt;
  }
  // No more memory than the frames the record describes: the archive's header could claim
  // gigabytes (16384² frames) that only the check after reading would refuse.
  const auto [frames_described, height, width] = described_video(record);
  const double described_bytes = 3.0 * frames_described * height * width;
  const size_t budget = size_t(std::min(described_bytes, double(decoded_video_budget())));
  try {
    Video frames = read_frame_archive(path, budget);
    if (holds_described_video(frames, record)) return frames;
    why = "has frames (" + path.string() + ") other than its record describes";
  } catch (const UserError& e) {
    why = "has frames that cannot be read (" + std::string(e.what()) + ")";
  }
  return std::nullopt;
}

// Which cached runs `root` holds: our folders only, whatever else shares the root.
std::vector<std::filesystem::path> cached_runs(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> runs;
  std::error_code ec;
  // Stepped with error codes: a range-for's ++ throws on a read error partway through the listing,
  // and the studio asks from its menus.
  for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type;
    if (it->path().filename().string().starts_with(kFolderPrefix) && it->is_directory(type) && !it->is_symlink(type)) {
      runs.push_back(it->path());
    }
  }
  return runs;
}

uintmax_t folder_bytes(const std::filesystem::path& folder) {
  uintmax_t bytes = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size;
    if (it->is_regular_file(size)) bytes += it->file_size(size);
  }
  return bytes;
}

// The last time a run was made or reused: its record's time (a hit touches it), else its folder's.
std::filesystem::file_time_type last_use(const std::filesystem::path& folder) {
  std::error_code ec;
  const auto record = std::filesystem::last_write_time(folder / kRecordFile, ec);
  if (!ec) return record;
  const auto made = std::filesystem::last_write_time(folder, ec);
  return ec ? std::filesystem::file_time_type::min() : made;
}

}  // namespace

std::optional<CachedDenseRun> find_cached_dense_run(const std::filesystem::path& dir, const nlohmann::json& wanted,
                                                    std::string* note) {
  std::optional<nlohmann::json> record = matching_record(dir, wanted, note);
  if (!record) return std::nullopt;
  CachedDenseRun run;
  run.record = std::move(*record);
  // The format this build writes (a Y4M written without FFmpeg loses only its 4:2:0 chroma: against
  // an MP4 sparse run its PSNR would count H.264's loss on one side only).
  run.video_path = video_output_path(dir / "dense.mp4");
  const auto unusable = [&](const std::string& why) {
    if (note) *note = "the dense run in " + run.video_path.string() + " " + why + ": running it again";
    return std::nullopt;
  };
  // Its record matches: a video gone since (deleted by hand) is said, not rerun without a word.
  std::error_code ec;
  if (!std::filesystem::exists(run.video_path, ec)) return unusable("is gone (its record is still there)");
  // A video replaced or damaged since its run wrote it would read, and give a wrong PSNR.
  const nlohmann::json& kept = run.record.at("video");  // matching_record checked it is an object
  if (const auto checksum = kept.find("checksum"); checksum != kept.end()) {
    if (!checksum->is_string() || file_checksum(run.video_path) != checksum->get<std::string>()) {
      return unusable("is not the video its run wrote (its checksum differs from its record's)");
    }
  }
  try {
    run.video = read_video(run.video_path, nullptr, decoded_video_budget());
  } catch (const UserError& e) {
    return unusable("cannot be read (" + std::string(e.what()) + ")");
  }
  // An odd-sized video's MP4 decodes with a padding column or row: the size its record holds is
  // the frames', and the decoded PSNR must not count the padding.
  [[maybe_unused]] const auto [frames, height, width] = described_video(run.record);
  crop_mp4_padding(run.video, height, width);
  if (!holds_described_video(run.video, run.record)) return unusable("does not hold the video its record describes");
  std::string why;
  std::optional<Video> kept_frames = read_kept_frames(dir, run.record, why);
  if (!kept_frames) return unusable(why);
  run.frames = std::move(*kept_frames);
  return run;
}

std::optional<CachedDenseFrames> find_cached_dense_frames(const std::filesystem::path& dir,
                                                          const nlohmann::json& wanted, std::string* note) {
  std::optional<nlohmann::json> record = matching_record(dir, wanted, nullptr);
  if (!record) return std::nullopt;
  std::string why;
  std::optional<Video> frames = read_kept_frames(dir, *record, why);
  if (!frames) {
    if (note) *note = "the dense run cached in " + dir.string() + " " + why + ": running it again";
    return std::nullopt;
  }
  std::error_code ec;
  std::filesystem::last_write_time(dir / kRecordFile, std::filesystem::file_time_type::clock::now(), ec);
  return CachedDenseFrames{std::move(*record), std::move(*frames)};
}

void keep_dense_frames(const std::filesystem::path& dir, const Video& frames, const nlohmann::json& record) {
  create_output_folder(dir);
  std::error_code ec;
  std::filesystem::remove(dir / kRecordFile, ec);
  if (ec) throw UserError("cannot replace the cached dense run in " + dir.string() + ": " + ec.message());
  write_frame_archive(frames, dir / kDenseFramesFile);
  write_json_atomically(dir / kRecordFile, record);
  // The video an earlier build kept here, which nothing reads now.
  for (const char* name : {"dense.mp4", "dense.y4m"}) std::filesystem::remove(dir / name, ec);
}

std::filesystem::path dense_cache_folder(const std::filesystem::path& root, const nlohmann::json& key) {
  char name[32];
  std::snprintf(name, sizeof name, "dense-%016zx", std::hash<std::string>{}(key.dump()));
  return root / name;
}

DenseCacheUsage dense_cache_usage(const std::filesystem::path& root) {
  DenseCacheUsage usage;
  for (const std::filesystem::path& run : cached_runs(root)) {
    ++usage.runs;
    usage.bytes += folder_bytes(run);
  }
  return usage;
}

void trim_dense_cache(const std::filesystem::path& root, uintmax_t max_bytes, const std::filesystem::path& keep) {
  struct Entry {
    std::filesystem::path folder;
    std::filesystem::file_time_type used;
    uintmax_t bytes;
  };
  std::vector<Entry> entries;
  uintmax_t total = 0;
  for (const std::filesystem::path& run : cached_runs(root)) {
    entries.push_back({run, last_use(run), folder_bytes(run)});
    total += entries.back().bytes;
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  std::error_code ec;
  const std::filesystem::path kept = std::filesystem::weakly_canonical(keep, ec);
  for (const Entry& entry : entries) {
    if (total <= max_bytes) break;
    if (std::filesystem::weakly_canonical(entry.folder, ec) == kept) continue;
    std::error_code removed;
    std::filesystem::remove_all(entry.folder, removed);
    if (!removed) total -= entry.bytes;
  }
}

DenseCacheUsage clear_dense_cache(const std::filesystem::path& root) {
  DenseCacheUsage removed;
  for (const std::filesystem::path& run : cached_runs(root)) {
    const uintmax_t bytes = folder_bytes(run);
    std::error_code ec;
    std::filesystem::remove_all(run, ec);
    if (ec) throw UserError("cannot remove the cached dense run " + run.string() + ": " + ec.message());
    ++removed.runs;
    removed.bytes += bytes;
  }
  return removed;
}

double mean_step_ms_after_first(const nlohmann::json& record) {
  const std::vector<double> steps = record.at("timings_ms").at("steps").get<std::vector<double>>();
  if (steps.size() < 2) return steps.empty() ? 0.0 : steps[0];
  return std::accumulate(steps.begin() + 1, steps.end(), 0.0) / double(steps.size() - 1);
}

double total_ms_without_text_encoding(const nlohmann::json& record) {
  const nlohmann::json& t = record.at("timings_ms");
  return t.at("total").get<double>() - t.value("text_encode", 0.0);
}

}  // namespace svgear
