#pragma once
// The tiny Wan DiT of ../shared/testvectors/wan/wan_dit_tiny.*: config, weights and reference io.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/model/tap_sink.h"
#include "core/model/wan_config.h"
#include "core/model/wan_weights.h"

namespace svgear::test {

WanConfig tiny_wan_config();
WanWeights tiny_wan_weights();

// Reference inputs and outputs (upstream WanModel, fp32 CPU), batch dimension added.
struct TinyWanIo {
  at::Tensor x;        // [1, 16, 3, 8, 12]
  at::Tensor t;        // [1]
  at::Tensor context;  // [1, 7, 64]
  at::Tensor out;      // [1, 16, 3, 8, 12]
  at::Tensor q_roped;  // [1, 72, 2, 64] block 0 self-attention q after RMSNorm + RoPE
  at::Tensor k_roped;  // [1, 72, 2, 64]
  at::Tensor v;        // [1, 72, 2, 64]
  at::Tensor attn_out; // [1, 72, 128] attention output before the o projection
};
TinyWanIo tiny_wan_io();

// The tiny weights as ComfyUI's *_fp8_scaled files store a DiT, names under `prefix`: the blocks'
// linear weights as e4m3(weight / scale) with a float32 "<module>.scale_weight" beside each (one
// value; one per row for ffn.0), a "scaled_fp8" marker and "<module>.scale_input"s the loader
// ignores, the rest fp16. `dequantised`: what a loader must make of it, in float32 under the
// original names.
struct ScaledFp8Weights {
  std::vector<std::pair<std::string, at::Tensor>> stored;
  std::vector<std::pair<std::string, at::Tensor>> dequantised;
};
ScaledFp8Weights tiny_wan_scaled_fp8(const std::string& prefix);

// Keeps a copy of every tap, by name.
class RecordingTaps : public TapSink {
 public:
  void on_tap(std::string_view name, const at::Tensor& value) override;
  std::map<std::string, at::Tensor, std::less<>> taps;
};

}  // namespace svgear::test
