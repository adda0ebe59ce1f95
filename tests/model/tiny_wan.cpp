#include "tests/model/tiny_wan.h"

#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/weights/safetensors_file.h"
#include "tests/support/test_paths.h"

namespace svgear::test {

WanConfig tiny_wan_config() {
  std::ifstream in(testvector("wan/wan_dit_tiny.json"));
  return WanConfig::from_json(nlohmann::json::parse(in));
}

WanWeights tiny_wan_weights() {
  auto file = SafetensorsFile::open(testvector("wan/wan_dit_tiny.weights.safetensors"));
  return WanWeights::load(tiny_wan_config(), {file});
}

TinyWanIo tiny_wan_io() {
  auto io = SafetensorsFile::open(testvector("wan/wan_dit_tiny.io.safetensors"));
  TinyWanIo r;
  r.x = io->load("x").unsqueeze(0);
  r.t = io->load("t");
  r.context = io->load("context").unsqueeze(0);
  r.out = io->load("out").unsqueeze(0);
  r.q_roped = io->load("block0_self_attn_q_roped").unsqueeze(0);
  r.k_roped = io->load("block0_self_attn_k_roped").unsqueeze(0);
  r.v = io->load("block0_self_attn_v").unsqueeze(0);
  r.attn_out = io->load("block0_self_attn_out").flatten(1).unsqueeze(0);
  return r;
}

ScaledFp8Weights tiny_wan_scaled_fp8(const std::string& prefix) {
  ScaledFp8Weights out;
  out.stored.emplace_back(prefix + "scaled_fp8", at::empty({0}, at::kFloat8_e4m3fn));
  for (const auto& [name, tensor] : tiny_wan_weights().state_dict()) {
    const bool linear = name.starts_with("blocks.") && tensor.dim() == 2 && name.ends_with(".weight");
    if (!linear) {
      out.stored.emplace_back(prefix + name, tensor.to(at::kHalf));
      out.dequantised.emplace_back(name, tensor.to(at::kHalf).to(at::kFloat));
      continue;
    }
    const bool per_row = name.ends_with("ffn.0.weight");
    const at::Tensor largest = per_row ? std::get<0>(tensor.abs().max(1, true)) : tensor.abs().max();
    const at::Tensor scale = largest / 448.0;  // e4m3's largest finite value
    const at::Tensor quantised = (tensor / scale).to(at::kFloat8_e4m3fn);
    const std::string module = prefix + name.substr(0, name.size() - std::string("weight").size());
    out.stored.emplace_back(prefix + name, quantised);
    out.stored.emplace_back(module + "scale_weight", per_row ? scale.flatten() : scale);
    out.stored.emplace_back(module + "scale_input", at::ones({}));
    out.dequantised.emplace_back(name, quantised.to(at::kFloat) * scale);
  }
  return out;
}

void RecordingTaps::on_tap(std::string_view name, const at::Tensor& value) {
  taps[std::string(name)] = value.detach().to(at::kCPU).clone();
}

}  // namespace svgear::test
