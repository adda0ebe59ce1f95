#pragma once
// AttentionBackend: the one place where self-attention is computed, and so the only place where
// sparsity lives. The DiT hands every self-attention call to a backend with an AttentionCall that
// says where in the generation the call is.

#include <string>
#include <string_view>

#include <ATen/core/Tensor.h>

#include "core/attention/attention_config.h"
#include "core/attention/token_grid.h"
#include "core/cancel_token.h"

namespace svgear {

enum class CfgBranch { Unset, Cond, Uncond };

struct AttentionCall {
  int layer = 0;
  int num_layers = 0;
  int step = 0;
  int num_steps = 0;
  CfgBranch branch = CfgBranch::Cond;
  TokenGrid grid;
  // The run's, when it has one: a backend polls it within a call that can take minutes (on a CPU,
  // at large sizes) and throws Cancelled.
  const CancelToken* cancel = nullptr;
};

class AttentionBackend {
 public:
  virtual ~AttentionBackend() = default;
  virtual std::string_view name() const = 0;
  // Whether this backend can run `config` on `device`; when not, `why` says so in words.
  virtual bool supports(const AttentionConfig& config, at::Device device, std::string* why) const = 0;
  // q, k, v: [B, H, N, d] (post RMSNorm and RoPE for q, k), any strides. Returns o: [B, H, N, d],
  // its strides the backend's (the sparse ones store a single batch entry's output tokens first).
  virtual at::Tensor forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const AttentionCall& call) = 0;
};

}  // namespace svgear
