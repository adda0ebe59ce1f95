#include "core/pipeline/run_record.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>

#include "core/io/atomic_file.h"
#include "core/io/bounded_json.h"
#include "core/media/png_writer.h"
#include "core/media/video_output.h"
#include "core/user_error.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/request_limits.h"
#include "kernels/block_sparse_attention/block_sparse_attention.h"
#include "svgear/build_config.h"

namespace svgear {

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

nlohmann::json make_run_record(const GenerationResult& result, const Model& model) {
  const GenerationTimings& t = result.timings;
  const double steps_total = std::accumulate(t.step_ms.begin(), t.step_ms.end(), 0.0);
  nlohmann::json j;
  j["svgear_version"] = SVGEAR_VERSION;
  j["created"] = utc_now();
  j["status"] = generation_status_name(result.status);
  if (!result.error.empty()) j["error"] = result.error;
  j["request"] = result.request.to_json();
  if (result.request.frames && result.request.height && result.request.width) {
    j["attention_tokens"] = attention_tokens(result.request, model.manifest);
  }
  // The device's own noise on the CPU is the CPU's draw: the record says what ran, and its dense-run
  // cache key is that of the same run without the choice.
  if (model.device.is_cpu()) j["request"].erase("noise");
  // Absolute: the record is read from elsewhere (a compare in another working folder looks for its
  // dense run by it; the studio reopens the run's model). Not canonical: a link's name, which the
  // Library's filter finds, stays.
  std::error_code ec;
  const std::filesystem::path folder =
      model.manifest.folder.empty() ? model.manifest.folder : std::filesystem::absolute(model.manifest.folder, ec);
  j["model"] = {{"name", model.manifest.name},
                {"folder", (ec ? model.manifest.folder : folder).string()},
                {"manifest", model.manifest.raw},
                {"files", model.weight_files}};
  j["video"] = {{"frames", result.video.frames},
                {"height", result.video.height},
                {"width", result.video.width},
                {"fps", result.video.fps}};
  j["steps_done"] = result.steps_done;
  j["timings_ms"] = {{"text_encode", t.text_encode_ms},
                     {"steps", t.step_ms},
                     {"steps_total", steps_total},
                     {"previews", t.preview_ms},
                     {"decode", t.decode_ms},
                     {"total", t.total_ms}};
  j["device"] = {{"name", model.device.str()},
                 {"description", device_description(model.device)},
                 {"dtype", c10::toString(model.dtype)}};
  if (model.text_encoder_device) j["device"]["text_encoder"] = model.text_encoder_device->str();
  if (model.vae_device) {
    j["device"]["vae"] = model.vae_device->str();
    // How the VAE covers each frame (WanVaeDecoder): whole on a GPU, as upstream, tiles on the CPU.
    // Tiles change every pixel a little. A fallback to tiles is recorded apart: it is not the plan
    // a dense-run cache key names, and the next run at that size falls back too.
    j["device"]["vae_frames"] = model.vae_device->is_cuda() ? "whole" : "tiles";
    if (result.decode.tiles_after_out_of_memory) j["device"]["vae_tiles_after_out_of_memory"] = true;
  }
  if (model.dit_fp8) j["device"]["dit_fp8"] = true;  // its weights rounded to e4m3 at load
  // What runs SVG2's and SVG-EAR's block-sparse attention for this model here (and would, for a
  // dense run): block_sparse_kernel_name's "wgmma (sm_90a)", "mma.sync (sm_80)", "CPU gather" or
  // "ATen reference".
  if (model.dit) {
    j["device"]["sparse_attention_kernel"] =
        block_sparse_kernel_name(model.device, model.dtype, model.dit->config().head_dim(),
                                 result.request.attention.k_clusters);
  }
  j["software"] = {{"libtorch", SVGEAR_TORCH_VERSION},
                   {"cuda_build", bool(SVGEAR_HAVE_CUDA)},
                   {"ffmpeg_build", bool(SVGEAR_HAVE_FFMPEG)},
                   {"build_type", SVGEAR_BUILD_TYPE}};
  return j;
}

std::string vae_fallback_warning(const nlohmann::json& dense_record, const nlohmann::json& sparse_record) {
  const auto fell_back = [](const nlohmann::json& record) {
    const nlohmann::json& device = record.value("device", nlohmann::json::object());
    return device.is_object() && device.value("vae_tiles_after_out_of_memory", false);
  };
  const bool dense = fell_back(dense_record), sparse = fell_back(sparse_record);
  if (!dense && !sparse) return "";
  const std::string which = dense && sparse ? "both runs' VAE" : dense ? "the dense run's VAE" : "the sparse run's VAE";
  return which + " decoded in tiles after running out of GPU memory" +
         (dense && sparse ? std::string() : std::string(", the other's whole frames")) +
         ": part of the difference between the videos is the tiles'";
}

std::filesystem::path run_record_path(const std::filesystem::path& video_path) {
  std::filesystem::path p = video_path;
  // "frames/" → "frames.json"; a folder's name is kept whole ("res.json/" must not be its own
  // record, nor "a.mp4/" share a.mp4's).
  if (p.filename().empty()) return p.parent_path() += ".json";
  return p.replace_extension(".json");
}

namespace {

// "clip.mp4" for out/clip.mp4, "frames/" for a PNG folder out/frames/.
std::string video_file_name(const std::filesystem::path& video) {
  return video.has_filename() ? video.filename().string() : video.parent_path().filename().string() + "/";
}

}  // namespace

void write_run_record(const VideoOutputResult& video, nlohmann::json record) {
  const std::filesystem::path path = run_record_path(video.path);
  try {
    record["video"]["file"] = video_file_name(video.path);
    if (!video.checksum.empty()) record["video"]["checksum"] = video.checksum;  // a PNG folder has none
    write_json_atomically(path, record);
  } catch (...) {
    // The video is already the new one: an earlier run's record left beside it would describe it
    // wrongly (compare would reuse it as that run's dense video). No record is better.
    std::error_code ec;
    if (std::filesystem::symlink_status(path, ec).type() == std::filesystem::file_type::regular) {
      std::filesystem::remove(path, ec);
    }
    throw;
  }
}

std::optional<nlohmann::json> check_run_record_for(const std::filesystem::path& video, bool named_by_user) {
  const std::filesystem::path path = run_record_path(video);
  check_output_file(path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  nlohmann::json record = read_json_if_small(path, uintmax_t(16) << 20);  // records are tens of KB
  if (!record.is_object() || !record.contains("svgear_version") || !record.contains("request") ||
      !record.contains("status")) {
    throw UserError("'" + path.string() + "' exists and is not a run record: the run's settings would replace "
                    "it (every output gets its record beside it, as <name>.json). " +
                    (named_by_user ? std::string("Choose another output name.")
                                   : "Move it away (even a damaged record of an earlier run), or write elsewhere."));
  }
  // Records written before they named their video cannot say; those are replaced as before.
  const nlohmann::json* file = nullptr;
  if (const auto v = record.find("video"); v != record.end() && v->is_object()) {
    if (const auto f = v->find("file"); f != v->end() && f->is_string()) file = &*f;
  }
  // "run/" and "run" both name one PNG folder: the same output, whichever spelling wrote the record.
  const auto without_slash = [](std::string name) {
    if (!name.empty() && name.back() == '/') name.pop_back();
    return name;
  };
  if (!file || without_slash(file->get<std::string>()) == without_slash(video_file_name(video))) return record;
  const std::filesystem::path owner = path.parent_path() / file->get<std::string>();
  if (!std::filesystem::exists(owner, ec)) return record;  // its video is gone: the record describes nothing
  throw UserError("'" + path.string() + "' is the run record of " + owner.string() + ", which " + video.string() +
                  " would share: its settings would be replaced. Choose another output name.");
}

namespace {

// The frame files the run that `j` records wrote into its PNG folder, by the frame count it lists;
// none when it lists no count.
std::set<std::string> recorded_frame_names(const nlohmann::json& j) {
  std::set<std::string> names;
  const auto v = j.find("video");
  if (v == j.end() || !v->is_object() || !v->contains("frames") || !(*v)["frames"].is_number_integer()) return names;
  const int64_t frames = (*v)["frames"].get<int64_t>();
  if (frames <= 0 || frames > kMaxFrames) return names;
  for (int f = 0; f < int(frames); ++f) names.insert(frame_file_name(f, int(frames)));
  return names;
}

}  // namespace

void check_output_replaces_only_a_run(const std::filesystem::path& requested, bool named_by_user) {
  const std::filesystem::path written = video_output_path(requested);
  const std::optional<nlohmann::json> earlier_run = check_run_record_for(written, named_by_user);  // then its own
  const bool recorded = earlier_run.has_value();
  const std::filesystem::path record = run_record_path(written);
  std::error_code ec;
  if (video_format_for(written) == VideoFormat::PngFrames) {
    // The writer replaces the folder's frame files and removes those past the new video's end: each
    // must be one the earlier run's record says it wrote (a frame_0050.png after its 16, a
    // frame_12.png, had gone without a word).
    const std::set<std::string> earlier = recorded ? recorded_frame_names(*earlier_run) : std::set<std::string>();
    for (std::filesystem::directory_iterator it(written, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!is_frame_file_name(name) || earlier.count(name)) continue;
      if (!recorded) {
        throw UserError("'" + written.string() + "' holds frames (" + name + ", …) that no run record beside it (" +
                        record.string() + ") says an svgear run wrote: the new frames would replace them. Choose an "
                        "empty or new folder.");
      }
      throw UserError("'" + written.string() + "' holds " + name + ", which its run record (" + record.string() +
                      ") does not count among the frames its run wrote (" +
                      (earlier.empty()       ? std::string("it lists none")
                       : earlier.size() == 1 ? *earlier.begin()
                                             : *earlier.begin() + " to " + *earlier.rbegin()) +
                      "): the new frames would replace or remove it. Move it, or choose an empty or new folder.");
    }
    return;
  }
  if (recorded) return;
  if (!named_by_user && std::filesystem::exists(written, ec)) {
    throw UserError("'" + written.string() + "' exists and no run record beside it (" +
                    record.filename().string() +
                    ") says an svgear run wrote it: it would be replaced. Move or rename the file, or choose "
                    "another output.");
  }
  if (written != requested && std::filesystem::exists(written, ec)) {
    throw UserError("this build writes no MP4, so " + requested.string() + " would be written as " + written.string() +
                    ", which exists and which no run record beside it says an svgear run wrote: it would be "
                    "replaced. Choose another output name, or name the .y4m yourself to replace it.");
  }
}

}  // namespace svgear
