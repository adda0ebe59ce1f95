#pragma once
// Run record: the JSON sidecar written next to every video — the resolved request, the model, the
// attention settings, timings, software versions and the device — enough to reproduce the video
// and to compare runs.

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/media/video_output.h"
#include "core/pipeline/generator.h"

namespace svgear {

// Now, in UTC, as records and results name their time: "2026-11-29T07:45:01Z".
std::string utc_now();

nlohmann::json make_run_record(const GenerationResult& result, const Model& model);

// For a comparison of two runs: "" when neither record's VAE fell back to tiles after running out
// of GPU memory (device.vae_tiles_after_out_of_memory), else a warning naming which did, since
// part of the difference between the videos is then the tiles'.
std::string vae_fallback_warning(const nlohmann::json& dense_record, const nlohmann::json& sparse_record);

// "<video path without extension>.json"; for a PNG folder (a path ending in '/') "<folder>.json",
// its whole name kept ("run.v2/" → "run.v2.json").
std::filesystem::path run_record_path(const std::filesystem::path& video_path);

// Writes `record` atomically as the run record of the video write_video wrote (at
// run_record_path(video.path)), with the video's file name in it ("video": {"file": "clip.mp4"}):
// outputs that differ only in their extension share a record's name, and a later run must be able
// to tell whose record it is. Its checksum is the one the writer took before the rename, not one
// read from the path now: another run writing the same name at once must not lend this record its
// video. When the write fails, an earlier record at that path is removed before the error is
// rethrown: callers write the video first, and the old record does not describe it.
void write_run_record(const VideoOutputResult& video, nlohmann::json record);

// Throws UserError when the record of `video` cannot be written: a place check_output_file refuses,
// an existing file that is not a run record (a model's model.json, an attention preset or any JSON
// a user keeps beside the output would be replaced), or the record of another video that is still
// there (clip.json of clip.mp4, when clip.y4m is asked for). Run before the work. Returns the
// record there is (the output's own, then), or nothing. `named_by_user` false: the video's name is
// not the user's (compare's dense.mp4 in its --out folder), so the advice is not to choose another.
std::optional<nlohmann::json> check_run_record_for(const std::filesystem::path& video, bool named_by_user = true);

// Throws UserError, before the work, when the record of what `requested` writes cannot be written
// (check_run_record_for, run first), or when writing `requested` would replace files the user did
// not name and no run of ours wrote: the .y4m that a build without FFmpeg writes for an .mp4, and
// the frame_NNNN.png a PNG folder holds (the writer replaces them and removes those past the new
// video's end: each must be one of the frames the folder's run record counts); with `named_by_user`
// false (compare's files in the folder the user named), the video itself too. Each counts as an
// earlier run's when its run record is beside it.
void check_output_replaces_only_a_run(const std::filesystem::path& requested, bool named_by_user = true);

}  // namespace svgear
