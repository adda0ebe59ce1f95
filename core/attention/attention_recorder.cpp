#include "core/attention/attention_recorder.h"

#include <utility>

#include <ATen/ATen.h>

#include "core/weights/safetensors_writer.h"

namespace svgear {

AttentionRecorder::AttentionRecorder(std::unique_ptr<AttentionBackend> inner, std::filesystem::path path, int layer,
                                     int step)
    : inner_(std::move(inner)), path_(std::move(path)), layer_(layer), step_(step) {}

at::Tensor AttentionRecorder::forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                      const AttentionCall& call) {
  if (!written_ && call.layer == layer_ && call.step == step_ && call.branch == CfgBranch::Cond) {
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
