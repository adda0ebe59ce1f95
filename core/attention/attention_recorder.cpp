#include "core/attention/attention_recorder.h"

#include <utility>

#include <ATen/ATen.h>

#include "core/user_error.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"

namespace svgear {

void check_attention_dump_path(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::symlink_status(path, ec).type() == std::filesystem::file_type::not_found) return;
  // A dump holds exactly q, k and v, and says which call they came from.
  bool is_dump = false;
  try {
    const std::shared_ptr<SafetensorsFile> file = SafetensorsFile::open(path);
    const auto& tensors = file->tensors();
    is_dump = tensors.size() == 3 && file->contains("q") && file->contains("k") && file->contains("v") &&
              file->metadata().count("layer") && file->metadata().count("step") && file->metadata().count("branch");
  } catch (const UserError&) {
    // not a readable safetensors file: not ours either
  }
  if (!is_dump) {
    throw UserError("--dump-attention '" + path.string() + "' exists and is not an earlier attention dump (its q, k "
                    "and v), which the dump would replace: choose another name");
  }
}

AttentionRecorder::AttentionRecorder(std::unique_ptr<AttentionBackend> inner, std::filesystem::path path, int layer,
                                     int step)
    : inner_(std::move(inner)), path_(std::move(path)), layer_(layer), step_(step) {}

at::Tensor AttentionRecorder::forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                      const AttentionCall& call) {
  if (!written_ && call.layer == layer_ && call.step == step_ && call.branch == CfgBranch::Cond) {
    check_attention_dump_path(path_);  // a file made by that name during the run is kept
    write_safetensors(path_, {{"q", q}, {"k", k}, {"v", v}},
                      {{"layer", std::to_string(call.layer)},
                       {"step", std::to_string(call.step)},
                       {"num_steps", std::to_string(call.num_steps)},
                       {"branch", "cond"},
                       {"grid", std::to_string(call.grid.frames) + "x" + std::to_string(call.grid.height) + "x" +
                                    std::to_string(call.grid.width)}});
    written_ = true;
  }
  return inner_->forward(q, k, v, call);
}

}  // namespace svgear
