#include "ui/last_compare.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/io/bounded_json.h"
#include "core/io/file_name_limit.h"
#include "core/io/unique_name.h"
#include "core/media/frame_archive.h"
#include "core/user_error.h"
#include "ui/comparison_video.h"

namespace svgear {
namespace {

constexpr const char* kFiguresFile = "compare.json";
constexpr const char* kDenseFile = "dense.frames";
constexpr const char* kSparseFile = "sparse.frames";

// JSON has no infinity: an identical frame's PSNR is written "inf".
nlohmann::json db_json(double db) { return std::isinf(db) ? nlohmann::json("inf") : nlohmann::json(db); }
double db_value(const nlohmann::json& j) {
  if (j.is_string() && j.get<std::string>() == "inf") return INFINITY;
  return j.get<double>();
}

}  // namespace

void keep_last_compare(const std::filesystem::path& folder, const CompareResult& result) {
  if (!result.dense || !result.sparse) throw std::invalid_argument("keep_last_compare: a result without its videos");
  std::error_code ec;
  std::filesystem::create_directories(folder.parent_path(), ec);
  remove_abandoned(folder.parent_path(), ".staging-last-compare-");  // a killed writer's
  const std::filesystem::path staging = create_unique_folder(folder.parent_path(), ".staging-last-compare-", ec);
  if (ec) {
    throw UserError("cannot keep the last Compare in " + shown_path(folder.parent_path()) + ": " + ec.message());
  }
  const RemovedAtScopeEnd remove_staging{staging};
  write_frame_archive(*result.dense, staging / kDenseFile);
  write_frame_archive(*result.sparse, staging / kSparseFile);
  nlohmann::json psnr = nlohmann::json::array();
  for (double db : result.psnr_db) psnr.push_back(db_json(db));
  // The frame files' sizes: where the file system cannot swap folders, replace_folder moves file by
  // file, and a move cut short must not pair this figures file with another Compare's frames.
  write_json_atomically(staging / kFiguresFile, {{"sparse_mode", result.sparse_mode},
                                                 {"sparse_settings", result.sparse_settings},
                                                 {"seed", result.seed},
                                                 {"prompt", result.prompt},
                                                 {"steps", result.steps},
                                                 {"created", result.created},
                                                 {"dense_bytes", std::filesystem::file_size(staging / kDenseFile)},
                                                 {"sparse_bytes", std::filesystem::file_size(staging / kSparseFile)},
                                                 {"psnr_db", psnr},
                                                 {"ssim", result.ssim},
                                                 {"mean_psnr_db", db_json(result.mean_psnr_db)},
                                                 {"mean_ssim", result.mean_ssim},
                                                 {"dense_total_ms", result.dense_total_ms},
                                                 {"sparse_total_ms", result.sparse_total_ms},
                                                 {"dense_step_ms", result.dense_step_ms},
                                                 {"sparse_step_ms", result.sparse_step_ms},
                                                 {"dense_reused", result.dense_reused}});
  replace_folder(staging, folder);
}

std::optional<CompareResult> read_last_compare(const std::filesystem::path& folder) {
  std::error_code ec;
  if (!std::filesystem::exists(folder / kFiguresFile, ec)) return std::nullopt;
  const std::string where = "the last Compare kept in " + shown_path(folder);
  CompareResult out;
  uintmax_t dense_bytes = 0, sparse_bytes = 0;
  try {
    std::ifstream in(folder / kFiguresFile);
    const nlohmann::json j = parse_bounded_json(in);  // a hand-edited file is a user's
    out.sparse_mode = j.at("sparse_mode").get<std::string>();
    if (j.contains("sparse_settings")) out.sparse_settings = j.at("sparse_settings").get<std::string>();
    if (!j.at("seed").is_number_unsigned()) throw UserError(where + " has no seed a run can have");
    out.seed = j.at("seed").get<uint64_t>();
    out.prompt = j.at("prompt").get<std::string>();
    dense_bytes = j.at("dense_bytes").get<uintmax_t>();
    sparse_bytes = j.at("sparse_bytes").get<uintmax_t>();
    for (const auto& db : j.at("psnr_db")) out.psnr_db.push_back(db_value(db));
    out.ssim = j.at("ssim").get<std::vector<double>>();
    out.mean_psnr_db = db_value(j.at("mean_psnr_db"));
    out.mean_ssim = j.at("mean_ssim").get<double>();
    out.dense_total_ms = j.at("dense_total_ms").get<double>();
    out.sparse_total_ms = j.at("sparse_total_ms").get<double>();
    out.dense_step_ms = j.at("dense_step_ms").get<double>();
    out.sparse_step_ms = j.at("sparse_step_ms").get<double>();
    out.dense_reused = j.at("dense_reused").get<bool>();
    // Absent from a Compare kept by an earlier version.
    if (j.contains("steps")) out.steps = json_int(j.at("steps"), "steps");
    out.created = j.value("created", "");
  } catch (const nlohmann::json::exception& e) {
    throw UserError(where + " cannot be read: " + e.what());
  }
  if (out.sparse_mode != "svg2" && out.sparse_mode != "svgear") {
    throw UserError(where + " names an unknown sparse mode '" + out.sparse_mode + "'");
  }
  // The figures a Compare can have: PSNR of 8-bit frames is at least 0 dB (or infinite), SSIM at
  // most 1, times finite and not negative.
  const auto psnr_ok = [](double db) { return db >= 0.0; };
  const auto ssim_ok = [](double s) { return s >= -1.0 && s <= 1.0; };
  const auto ms_ok = [](double ms) { return std::isfinite(ms) && ms >= 0.0; };
  if (!std::all_of(out.psnr_db.begin(), out.psnr_db.end(), psnr_ok) || !psnr_ok(out.mean_psnr_db) ||
      !std::all_of(out.ssim.begin(), out.ssim.end(), ssim_ok) || !ssim_ok(out.mean_ssim) ||
      !ms_ok(out.dense_total_ms) || !ms_ok(out.sparse_total_ms) || !ms_ok(out.dense_step_ms) ||
      !ms_ok(out.sparse_step_ms) || out.steps < 0) {
    throw UserError(where + " holds figures no Compare makes (a negative PSNR, time or step count, an SSIM past 1)");
  }
  if (std::filesystem::file_size(folder / kDenseFile, ec) != dense_bytes ||
      std::filesystem::file_size(folder / kSparseFile, ec) != sparse_bytes) {
    throw UserError(where + " is incomplete: its frame files are not the ones its figures were written with");
  }
  // The videos' memory is checked from their headers first: a damaged header must not ask for
  // terabytes (16 GiB holds a Wan 720p clip of 81 frames many times over).
  constexpr size_t kMostBytes = size_t(16) << 30;
  Video dense = read_frame_archive(folder / kDenseFile, kMostBytes);
  Video sparse = read_frame_archive(folder / kSparseFile, kMostBytes);
  if (dense.frames != sparse.frames || dense.height != sparse.height || dense.width != sparse.width ||
      out.psnr_db.size() != size_t(dense.frames) || out.ssim.size() != size_t(dense.frames)) {
    throw UserError(where + " does not hold one result: its videos and figures disagree in size");
  }
  out.difference = std::make_shared<const Video>(difference_video(dense, sparse, out.largest_difference));
  out.dense = std::make_shared<const Video>(std::move(dense));
  out.sparse = std::make_shared<const Video>(std::move(sparse));
  return out;
}

}  // namespace svgear
