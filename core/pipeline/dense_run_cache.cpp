#include "core/pipeline/dense_run_cache.h"

#include <fstream>
#include <numeric>
#include <vector>

#include "core/io/bounded_json.h"
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
  return {{"request", request},
          {"model", model.at("manifest")},
          {"folder", folder.string()},
          {"files", model.value("files", nlohmann::json::array())},
          {"device", device.at("name")},
          {"dtype", device.at("dtype")},
          {"text_encoder", device.value("text_encoder", "")},
          {"vae", device.value("vae", "")}};
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
  for (const char* name : {"dense.mp4", "dense.y4m"}) {
    std::error_code ec;
    if (std::filesystem::exists(dir / name, ec)) {
      run.video_path = dir / name;
      try {
        run.video = read_video(run.video_path);
      } catch (const UserError& e) {
        if (note) *note = "the dense run in " + run.video_path.string() + " cannot be read (" + e.what() + "): running it again";
        return std::nullopt;
      }
      return run;
    }
  }
  return std::nullopt;
}

double mean_step_ms(const nlohmann::json& record) {
  const std::vector<double> steps = record.at("timings_ms").at("steps").get<std::vector<double>>();
  if (steps.empty()) return 0.0;
  return std::accumulate(steps.begin(), steps.end(), 0.0) / double(steps.size());
}

}  // namespace svgear
