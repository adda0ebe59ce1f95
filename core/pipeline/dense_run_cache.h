#pragma once
// The dense reference of a compare, kept on disk so that comparing another sparse setting of the
// same request does not pay for dense again. A dense run stands in for a new one when its run
// record matches on the resolved request (without the attention settings and previews, which do
// not change a dense video), the model, the device and the dtype. Used by `svgear compare` and the
// studio's Compare view.

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/media/video.h"

namespace svgear {

struct GenerationRequest;
struct Model;

struct CachedDenseRun {
  std::filesystem::path video_path;  // <dir>/dense.mp4, or dense.y4m from the FFmpeg-less fallback
  nlohmann::json record;
  Video video;
};

// What must match, taken from a run record.
nlohmann::json dense_cache_key(const nlohmann::json& record);
// The key the dense run of `dense_request` (resolved) on `model` will have once it has run.
nlohmann::json dense_cache_key(const GenerationRequest& dense_request, const Model& model);

// The finished dense run in `dir` (dense.json beside its video) whose key is `wanted`, video read;
// nullopt when there is none, its record is unreadable, it failed, or it was made for something
// else; also when its video cannot be read (damaged, truncated), and then `note` (when given) says
// so: the caller runs it again, which replaces it.
std::optional<CachedDenseRun> find_cached_dense_run(const std::filesystem::path& dir, const nlohmann::json& wanted,
                                                    std::string* note = nullptr);

// Mean of a run record's timings_ms.steps: the time of one denoising step; 0 without steps.
double mean_step_ms(const nlohmann::json& record);

}  // namespace svgear
