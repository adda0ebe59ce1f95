#pragma once
// AttentionRecorder: wraps a backend and saves the q, k and v of one self-attention call — chosen
// by layer and step, conditional branch — to a safetensors file in the layout `svgear bench attention
// --inputs` reads ([B, H, N, d], post RMSNorm and RoPE, the model's dtype). Real activations give
// the bench the densities and errors of a real model instead of those of synthetic clusters.

#include <filesystem>
#include <memory>
#include <string>

#include "core/attention/attention_backend.h"

namespace svgear {

// Refuses a dump path that holds anything but an earlier dump (a model's weights, any other
// .safetensors file): the dump replaces what is there. Called before the run and again just
// before the write.
void check_attention_dump_path(const std::filesystem::path& path);

class AttentionRecorder : public AttentionBackend {
 public:
  AttentionRecorder(std::unique_ptr<AttentionBackend> inner, std::filesystem::path path, int layer, int step);

  std::string_view name() const override { return inner_->name(); }
  bool supports(const AttentionConfig& config, at::Device device, std::string* why) const override {
    return inner_->supports(config, device, why);
  }
  at::Tensor forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const AttentionCall& call) override;

  bool written() const { return written_; }

 private:
  std::unique_ptr<AttentionBackend> inner_;
  std::filesystem::path path_;
  int layer_ = 0;
  int step_ = 0;
  bool written_ = false;
};

}  // namespace svgear
