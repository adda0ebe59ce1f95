// The umT5 encoder against upstream T5Encoder (../shared/testvectors/wan/umt5_tiny.*), and the same
// weights in the other layouts and dtypes the loader accepts.

#include "core/text/umt5_encoder.h"

#include <iostream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/text/umt5_weight_names.h"
#include "core/weights/safetensors_file.h"
#include "tests/support/tensor_compare.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"

namespace svgear {
namespace {

constexpr double kFloat32Tolerance = 1e-4;  // testvectors/README.md

// max |a - b| / max |b|: the element-wise view of the error, next to the relative L2.
double max_relative_error(const at::Tensor& actual, const at::Tensor& expected) {
  at::Tensor a = actual.to(at::kDouble);
  at::Tensor b = expected.to(at::kDouble);
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

at::Tensor run(const Umt5Weights& weights) {
  const test::TinyUmt5Io io = test::tiny_umt5_io();
  return Umt5Encoder(weights).forward(io.ids, io.mask).to(at::kFloat);
}

TEST(Umt5EncoderReference, ConfigComesFromTheWeights) {
  const Umt5Config c = test::tiny_umt5_weights().config;  // umt5_tiny.json
  EXPECT_EQ(c.vocab, 300);
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.dim_attn, 64);
  EXPECT_EQ(c.dim_ffn, 128);
  EXPECT_EQ(c.num_heads, 4);
  EXPECT_EQ(c.num_layers, 2);
  EXPECT_EQ(c.num_buckets, 32);
}

TEST(Umt5EncoderReference, OutputMatchesUpstream) {
  const test::TinyUmt5Io io = test::tiny_umt5_io();
  const at::Tensor out = run(test::tiny_umt5_weights());
  ASSERT_EQ(out.sizes(), io.out.sizes());
  // Upstream zeroes nothing: the 3 padding positions are compared too.
  const double max_rel = max_relative_error(out, io.out);
  const double rel_l2 = test::relative_l2(out, io.out);
  std::cout << "[ measured ] umt5_tiny out: max rel err " << max_rel << ", relative L2 " << rel_l2
            << "\n";
  EXPECT_LE(max_rel, kFloat32Tolerance);
  EXPECT_LE(rel_l2, kFloat32Tolerance);
}

TEST(Umt5EncoderReference, PositionBucketsFollowT5) {
  // 32 buckets, bidirectional: 16 per direction, exact below 8, log-spaced up to 128.
  const at::Tensor b = umt5_position_buckets(300, 32, 128, at::kCPU);
  auto bucket = [&](int64_t query, int64_t key) { return b[query][key].item<int64_t>(); };
  EXPECT_EQ(bucket(0, 0), 0);
  EXPECT_EQ(bucket(5, 0), 5);  // key 5 before the query
  EXPECT_EQ(bucket(0, 5), 21);  // key 5 after: the upper half
  EXPECT_EQ(bucket(20, 0), 10);  // 8 + floor(log(20/8) / log(16) · 8)
  EXPECT_EQ(bucket(200, 0), 15);  // clamped to the last bucket
  EXPECT_EQ(bucket(0, 299), 31);
}

// The Hugging Face / ComfyUI names (umt5_xxl_fp16.safetensors), with a decoder tensor to ignore.
TEST(Umt5EncoderReference, HuggingFaceNamesGiveTheIdenticalOutput) {
  const auto dir = test::scratch_dir("umt5_hf");
  std::vector<std::pair<std::string, at::Tensor>> renamed;
  for (const auto& [name, tensor] : test::tiny_umt5_state_dict()) {
    renamed.emplace_back(umt5_hf_name(name), tensor);
  }
  renamed.emplace_back("decoder.block.0.layer.0.SelfAttention.q.weight", at::ones({64, 64}));
  const auto path = test::write_tensors(dir, "umt5_hf.safetensors", renamed);
  const auto file = SafetensorsFile::open(path);
  EXPECT_TRUE(file->contains("encoder.block.1.layer.1.DenseReluDense.wi_0.weight"));
  EXPECT_TRUE(
      file->contains("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"));
  EXPECT_TRUE(file->contains("shared.weight"));
  EXPECT_TRUE(file->contains("encoder.final_layer_norm.weight"));
  const at::Tensor reference = run(test::tiny_umt5_weights());
  EXPECT_TRUE(at::equal(run(Umt5Weights::load({file}, at::kCPU, at::kFloat)), reference));
}

// The Diffusers text_encoder/ folder: Hugging Face names in shards.
TEST(Umt5EncoderReference, ShardedFilesLoad) {
  const auto dir = test::scratch_dir("umt5_shards");
  std::vector<std::pair<std::string, at::Tensor>> shards[2];
  size_t i = 0;
  for (const auto& [name, tensor] : test::tiny_umt5_state_dict()) {
    shards[i++ % 2].emplace_back(umt5_hf_name(name), tensor);
  }
  const auto first = test::write_tensors(dir, "model-00001-of-00002.safetensors", shards[0]);
  const auto second = test::write_tensors(dir, "model-00002-of-00002.safetensors", shards[1]);
  const at::Tensor out =
      run(Umt5Weights::load(open_umt5_files({first, second}), at::kCPU, at::kFloat));
  EXPECT_TRUE(at::equal(out, run(test::tiny_umt5_weights())));
}

TEST(Umt5EncoderReference, HalfPrecisionFilesLoad) {
  const test::TinyUmt5Io io = test::tiny_umt5_io();
  for (at::ScalarType stored : {at::kHalf, at::kBFloat16}) {
    const auto dir = test::scratch_dir("umt5_half");
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto& [name, tensor] : test::tiny_umt5_state_dict()) {
      tensors.emplace_back("text_encoders.umt5xxl.transformer." + umt5_hf_name(name),
                           tensor.to(stored));
    }
    const auto path = test::write_tensors(dir, "umt5.safetensors", tensors);
    const at::Tensor out = run(Umt5Weights::load(open_umt5_files({path}), at::kCPU, at::kFloat));
    const double err = test::relative_l2(out, io.out);
    std::cout << "[ measured ] " << c10::toString(stored) << " weights, fp32 compute: relative L2 "
              << err << "\n";
    // Rounding the weights alone: about 2^-9 (bf16) and 2^-12 (fp16) relative per weight.
    EXPECT_LE(err, stored == at::kHalf ? 2e-3 : 1.5e-2);
  }
}

// ComfyUI's umt5_xxl_fp8_e4m3fn_scaled.safetensors: each linear weight stored as
// e4m3(weight / scale) with a float32 `<module>.scale_weight` beside it, a `scaled_fp8` marker,
// the rest fp16.
TEST(Umt5EncoderReference, ScaledFp8FileIsDequantised) {
  const auto dir = test::scratch_dir("umt5_fp8");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::vector<std::pair<std::string, at::Tensor>> dequantised;  // what the loader must reconstruct
  tensors.emplace_back("scaled_fp8", at::empty({0}, at::kFloat8_e4m3fn));
  for (const auto& [name, tensor] : test::tiny_umt5_state_dict()) {
    const std::string hf = umt5_hf_name(name);
    const bool linear = tensor.dim() == 2 && (name.find(".attn.") != std::string::npos ||
                                              name.find(".ffn.") != std::string::npos);
    if (!linear) {
      tensors.emplace_back(hf, tensor.to(at::kHalf));
      dequantised.emplace_back(name, tensor.to(at::kHalf).to(at::kFloat));
      continue;
    }
    const at::Tensor scale = tensor.abs().max() / 448.0;  // e4m3's largest finite value
    const at::Tensor quantised = (tensor / scale).to(at::kFloat8_e4m3fn);
    const std::string module = hf.substr(0, hf.size() - std::string(".weight").size());
    tensors.emplace_back(hf, quantised);
    tensors.emplace_back(module + ".scale_weight", scale);
    tensors.emplace_back(module + ".scale_input", at::ones({}));
    dequantised.emplace_back(name, quantised.to(at::kFloat) * scale);
  }
  const auto fp8 = test::write_tensors(dir, "umt5_fp8_scaled.safetensors", tensors);
  const auto exact = test::write_tensors(dir, "umt5_dequantised.safetensors", dequantised);
  const at::Tensor out = run(Umt5Weights::load(open_umt5_files({fp8}), at::kCPU, at::kFloat));

  // The dequantisation itself is exact: same as fp32 weights holding the dequantised values.
  const at::Tensor expected =
      run(Umt5Weights::load(open_umt5_files({exact}), at::kCPU, at::kFloat));
  EXPECT_TRUE(test::tensors_close(out, expected, 1e-6));

  // Against upstream: e4m3 keeps 3 mantissa bits, a rounding error of up to 2^-4 (~3.6% RMS) per
  // weight, which averages down over the 64-128 terms of each dot product; 5% bounds it with room.
  const double err = test::relative_l2(out, test::tiny_umt5_io().out);
  std::cout << "[ measured ] scaled fp8 e4m3 weights vs upstream fp32: relative L2 " << err << "\n";
  EXPECT_LE(err, 5e-2);
}

TEST(Umt5EncoderReference, HalfPrecisionComputeStaysClose) {
  const test::TinyUmt5Io io = test::tiny_umt5_io();
  for (at::ScalarType compute : {at::kBFloat16, at::kHalf}) {
    const at::Tensor out = run(test::tiny_umt5_weights(at::kCPU, compute));
    const double err = test::relative_l2(out, io.out);
    std::cout << "[ measured ] " << c10::toString(compute)
              << " compute on the CPU: relative L2 " << err << "\n";
    EXPECT_LE(err, 2e-2);  // bf16 (upstream's t5_dtype) rounds at ~4e-3 per op
  }
}

}  // namespace
}  // namespace svgear
