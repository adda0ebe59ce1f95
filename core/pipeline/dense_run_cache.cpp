#include "core/pipeline/dense_run_cache.h"

#include <fstream>
#include <numeric>
#include <vector>

#include "core/io/bounded_json.h"
#include "core/media/video_output.h"
#include "core/media/video_reader.h"
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
  // the latter. A Wan model's text encoder and VAE places too: they change the video's rounding.
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
          {"software", record.value("software", nlohmann::json::object())}};
}

nlohmann::json dense_cache_key(const GenerationRequest& dense_request, const Model& model) {
  GenerationResult probe;  // only to build the record the run would have
  probe.status = GenerationStatus::Finished;
  probe.request = dense_request;
  return dense_cache_key(make_run_record(probe, model));
}

std::optional<CachedDenseRun> find_cached_dense_run(const std::filesystem::path& dir, const nlohmann::json& wanted,
                                                    std::string* note) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / "dense.json", ec)) return std::nullopt;  // a FIFO would block
  std::ifstream file(dir / "dense.json");
  if (!file.good()) return std::nullopt;
  CachedDenseRun run;
  try {
    run.record = parse_bounded_json(file);
    if (run.record.at("status") != "finished" || dense_cache_key(run.record) != wanted) return std::nullopt;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // an unreadable record is simply not a cache hit
  }
  // The format this build writes (a Y4M written without FFmpeg is lossless: against an MP4 sparse
  // run its PSNR would count the H.264 loss as well).
  run.video_path = video_output_path(dir / "dense.mp4");
  if (!std::filesystem::exists(run.video_path, ec)) return std::nullopt;
  const auto unusable = [&](const std::string& why) {
    if (note) *note = "the dense run in " + run.video_path.string() + " " + why + ": running it again";
    return std::nullopt;
  };
  try {
    run.video = read_video(run.video_path);
  } catch (const UserError& e) {
    return unusable("cannot be read (" + std::string(e.what()) + ")");
  }
  const nlohmann::json& made = run.record.value("video", nlohmann::json::object());
  if (made.value("frames", -1) != run.video.frames || made.value("height", -1) != run.video.height ||
      made.value("width", -1) != run.video.width) {
    return unusable("does not hold the video its record describes");
  }
  return run;
}

double mean_step_ms(const nlohmann::json& record) {
  const std::vector<double> steps = record.at("timings_ms").at("steps").get<std::vector<double>>();
  if (steps.empty()) return 0.0;
  return std::accumulate(steps.begin(), steps.end(), 0.0) / double(steps.size());
}

}  // namespace svgear
