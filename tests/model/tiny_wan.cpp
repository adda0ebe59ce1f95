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

void RecordingTaps::on_tap(std::string_view name, const at::Tensor& value) {
  taps[std::string(name)] = value.detach().to(at::kCPU).clone();
}

}  // namespace svgear::test
