// The DiT against upstream WanModel (../shared/testvectors/wan/wan_dit_tiny.*), and the same
// checkpoint in the other layouts the loader accepts.

#include "core/model/wan_dit.h"

#include <iostream>
#include <map>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/attention/dense_backend.h"
#include "core/model/wan_weight_names.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/model/tiny_wan.h"
#include "tests/support/tensor_compare.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

constexpr double kFloat32Tolerance = 1e-4;  // testvectors/README.md

at::Tensor run_tiny(const WanWeights& weights, TapSink* taps = nullptr) {
  const test::TinyWanIo io = test::tiny_wan_io();
  WanDiT dit(test::tiny_wan_config(), weights);
  DenseBackend dense;
  DiTForward call;
  call.attention = &dense;
  call.taps = taps;
  return dit.forward(io.x, io.t, io.context, call);
}

void expect_close(const char* what, const at::Tensor& actual, const at::Tensor& expected) {
  std::cout << "[ measured ] " << what << ": relative L2 " << test::relative_l2(actual, expected)
            << "\n";
  EXPECT_TRUE(test::tensors_close(actual, expected, kFloat32Tolerance)) << what;
}

TEST(WanDiTReference, OutputMatchesUpstream) {
  test::RecordingTaps taps;
  at::Tensor out = run_tiny(test::tiny_wan_weights(), &taps);
  const test::TinyWanIo io = test::tiny_wan_io();
  EXPECT_EQ(out.scalar_type(), at::kFloat);
  expect_close("out", out, io.out);
  expect_close("blocks.0.self_attn.q", taps.taps.at("blocks.0.self_attn.q"), io.q_roped);
  expect_close("blocks.0.self_attn.k", taps.taps.at("blocks.0.self_attn.k"), io.k_roped);
  expect_close("blocks.0.self_attn.v", taps.taps.at("blocks.0.self_attn.v"), io.v);
  expect_close("blocks.0.self_attn.out", taps.taps.at("blocks.0.self_attn.out"), io.attn_out);
  EXPECT_TRUE(taps.taps.contains("blocks.1.self_attn.out"));
}

// Writes `tensors` (renamed by `rename`) as two shards plus a tensor of another model.
std::vector<std::shared_ptr<SafetensorsFile>> write_layout(
    const std::string& folder, const std::function<std::string(const std::string&)>& rename,
    at::ScalarType dtype) {
  const auto dir = test::scratch_dir(folder);
  std::vector<std::pair<std::string, at::Tensor>> shards[2];
  size_t i = 0;
  for (const auto& [name, tensor] : test::tiny_wan_weights().state_dict()) {
    shards[i++ % 2].emplace_back(rename(name), tensor.to(dtype));
  }
  shards[1].emplace_back("first_stage_model.decoder.conv_in.weight", at::ones({4, 4}));
  write_safetensors(dir / "part-1.safetensors", shards[0]);
  write_safetensors(dir / "part-2.safetensors", shards[1]);
  return {SafetensorsFile::open(dir / "part-1.safetensors"),
          SafetensorsFile::open(dir / "part-2.safetensors")};
}

TEST(WanDiTReference, DiffusersAndPrefixedLayoutsGiveTheIdenticalOutput) {
  const WanConfig config = test::tiny_wan_config();
  const at::Tensor reference = run_tiny(test::tiny_wan_weights());

  auto diffusers = write_layout(
      "diffusers", [](const std::string& name) { return wan_diffusers_name(name); }, at::kFloat);
  ASSERT_TRUE(diffusers[0]->contains("condition_embedder.time_embedder.linear_1.weight") ||
              diffusers[1]->contains("condition_embedder.time_embedder.linear_1.weight"));
  EXPECT_TRUE(at::equal(run_tiny(WanWeights::load(config, diffusers)), reference));

  auto comfy = write_layout(
      "comfy", [](const std::string& name) { return "model.diffusion_model." + name; },
      at::kFloat);
  EXPECT_TRUE(at::equal(run_tiny(WanWeights::load(config, comfy)), reference));

  auto comfy_diffusers = write_layout(
      "comfy_diffusers",
      [](const std::string& name) { return "model.diffusion_model." + wan_diffusers_name(name); },
      at::kFloat);
  EXPECT_TRUE(at::equal(run_tiny(WanWeights::load(config, comfy_diffusers)), reference));
}

TEST(WanDiTReference, HalfPrecisionFilesLoadAsFloat32) {
  auto files = write_layout("bf16", [](const std::string& name) { return name; }, at::kBFloat16);
  WanWeights w = WanWeights::load(test::tiny_wan_config(), files);
  EXPECT_EQ(w.blocks[0].self_attn_q_weight.scalar_type(), at::kFloat);
  EXPECT_TRUE(test::tensors_close(run_tiny(w), test::tiny_wan_io().out, 3e-2));
}

// ComfyUI's *_fp8_scaled DiT (tiny_wan.h's tiny_wan_scaled_fp8): the blocks' linear weights stay
// e4m3 beside their scales, and the block's products equal those of fp32 weights holding e4m3 · scale.
TEST(WanDiTReference, ScaledFp8FileKeepsE4m3AndComputesTheDequantisedProducts) {
  const auto dir = test::scratch_dir("wan_fp8_scaled");
  const test::ScaledFp8Weights fp8 = test::tiny_wan_scaled_fp8("model.diffusion_model.");
  write_safetensors(dir / "wan_fp8_scaled.safetensors", fp8.stored);
  write_safetensors(dir / "wan_dequantised.safetensors", fp8.dequantised);
  const WanConfig config = test::tiny_wan_config();
  const WanWeights w = WanWeights::load(config, {SafetensorsFile::open(dir / "wan_fp8_scaled.safetensors")});
  const WanWeights exact = WanWeights::load(config, {SafetensorsFile::open(dir / "wan_dequantised.safetensors")});

  std::map<std::string, at::Tensor> loaded;
  w.for_each_tensor([&](const std::string& name, const at::Tensor& t, WeightPrecision) { loaded[name] = t; });
  int kept = 0;
  exact.for_each_tensor([&](const std::string& name, const at::Tensor& t, WeightPrecision) {
    const at::Tensor& mine = loaded.at(name);
    const auto scale = loaded.find(name.substr(0, name.size() - 6) + "scale_weight");
    if (!name.ends_with(".weight") || scale == loaded.end()) {
      EXPECT_TRUE(at::equal(mine, t)) << name;
      return;
    }
    ++kept;
    EXPECT_EQ(mine.scalar_type(), at::kFloat8_e4m3fn) << name;
    EXPECT_TRUE(at::equal(dequantized_fp8(mine, scale->second, at::kFloat), t)) << name;
  });
  EXPECT_EQ(kept, 10 * config.num_layers);  // every linear of every block
  EXPECT_EQ(loaded.size(), exact.state_dict().size() + size_t(kept));  // the scales

  const at::Tensor out = run_tiny(w);
  EXPECT_TRUE(at::equal(out, run_tiny(exact)));
  // In bf16 too, where the dequantised weight is rounded once, per matmul as at a load.
  const auto bf16 = [&](const char* file) {
    return WanWeights::load(config, {SafetensorsFile::open(dir / file)}, at::Device(at::kCPU), at::kBFloat16);
  };
  EXPECT_TRUE(at::equal(run_tiny(bf16("wan_fp8_scaled.safetensors")), run_tiny(bf16("wan_dequantised.safetensors"))));
  // Against upstream: e4m3's 3 mantissa bits round each weight by up to 2^-4, which averages down
  // over a dot product's terms; the tiny model's output stays within a few percent.
  const double err = test::relative_l2(out, test::tiny_wan_io().out);
  std::cout << "[ measured ] scaled fp8 e4m3 DiT weights vs upstream fp32: relative L2 " << err << "\n";
  EXPECT_LE(err, 5e-2);
  EXPECT_GT(err, 0.0);  // the weights were quantised, not passed through
}

// A plain fp8 DiT (ComfyUI's *_fp8_e4m3fn: e4m3 weights, no scales): the blocks' linears stay e4m3
// with a scale of 1 and compute what float32 weights holding the same values do.
TEST(WanDiTReference, PlainFp8FileKeepsE4m3WithAScaleOfOne) {
  const auto dir = test::scratch_dir("wan_fp8_plain");
  std::vector<std::pair<std::string, at::Tensor>> stored, widened;
  for (const auto& [name, tensor] : test::tiny_wan_weights().state_dict()) {
    const bool linear = name.starts_with("blocks.") && tensor.dim() == 2;
    stored.emplace_back(name, linear ? tensor.to(at::kFloat8_e4m3fn) : tensor);
    widened.emplace_back(name, linear ? tensor.to(at::kFloat8_e4m3fn).to(at::kFloat) : tensor);
  }
  write_safetensors(dir / "wan_fp8_e4m3fn.safetensors", stored);
  write_safetensors(dir / "wan_widened.safetensors", widened);
  const WanConfig config = test::tiny_wan_config();
  const WanWeights w = WanWeights::load(config, {SafetensorsFile::open(dir / "wan_fp8_e4m3fn.safetensors")});
  EXPECT_EQ(w.blocks[1].cross_attn_k_weight.scalar_type(), at::kFloat8_e4m3fn);
  EXPECT_TRUE(at::equal(w.blocks[1].cross_attn_k_scale, at::ones({})));
  EXPECT_EQ(w.state_dict().size(), WanWeights::meta(config).state_dict().size() + 10 * size_t(config.num_layers));
  const WanWeights widened_weights =
      WanWeights::load(config, {SafetensorsFile::open(dir / "wan_widened.safetensors")});
  EXPECT_TRUE(at::equal(run_tiny(w), run_tiny(widened_weights)));
}

}  // namespace
}  // namespace svgear
