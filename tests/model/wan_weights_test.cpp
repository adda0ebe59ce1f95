#include "core/model/wan_weights.h"

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/model/wan_random_weights.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/support/cancel_after_ops.h"
#include "tests/model/tiny_wan.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

using StateDict = std::vector<std::pair<std::string, at::Tensor>>;

StateDict tiny_state_dict() { return test::tiny_wan_weights().state_dict(); }

// The WeightsError message of loading `tensors` (written to a scratch file) with the tiny config.
std::string load_error(const StateDict& tensors, const std::string& file_name) {
  const auto path = test::scratch_dir("wan_weights") / file_name;
  write_safetensors(path, tensors);
  try {
    WanWeights::load(test::tiny_wan_config(), {SafetensorsFile::open(path)});
  } catch (const WeightsError& e) {
    return e.what();
  }
  return "";
}

TEST(WanWeights, LayoutMatchesTheReferenceCheckpoint) {
  auto file = SafetensorsFile::open(test::testvector("wan/wan_dit_tiny.weights.safetensors"));
  std::set<std::string> in_file;
  for (const TensorEntry& entry : file->tensors()) in_file.insert(entry.name);
  std::set<std::string> in_layout;
  for (const auto& [name, tensor] : WanWeights::meta(test::tiny_wan_config()).state_dict()) {
    in_layout.insert(name);
  }
  EXPECT_EQ(in_layout, in_file);
}

TEST(WanWeights, LoadsFloat32CopiesOfTheFile) {
  auto file = SafetensorsFile::open(test::testvector("wan/wan_dit_tiny.weights.safetensors"));
  for (const auto& [name, tensor] : tiny_state_dict()) {
    EXPECT_EQ(tensor.scalar_type(), at::kFloat) << name;
    EXPECT_TRUE(at::equal(tensor, file->load(name))) << name;
  }
}

// A token cancelled while the tensors load stops the load at the next tensor (the studio closing
// during a multi-gigabyte load); an uncancelled one loads as without.
TEST(WanWeights, ACancelledTokenStopsTheLoad) {
  auto file = SafetensorsFile::open(test::testvector("wan/wan_dit_tiny.weights.safetensors"));
  CancelToken cancel;
  EXPECT_NO_THROW(WanWeights::load(test::tiny_wan_config(), {file}, at::Device(at::kCPU), at::kFloat, &cancel));
  cancel.cancel();
  EXPECT_THROW(WanWeights::load(test::tiny_wan_config(), {file}, at::Device(at::kCPU), at::kFloat, &cancel),
               Cancelled);
}

// Cancelled part-way through, after half the load's ATen operators (so after some tensors have
// loaded): the per-tensor poll stops it well before the end, not only a poll at the start.
TEST(WanWeights, ATokenCancelledDuringTheLoadStopsItAtTheNextTensor) {
  auto file = SafetensorsFile::open(test::testvector("wan/wan_dit_tiny.weights.safetensors"));
  int64_t whole_load = 0;
  size_t tensors = 0;
  {
    test::CancelAfterOps count(nullptr, 0);
    const WanWeights w = WanWeights::load(test::tiny_wan_config(), {file});
    whole_load = count.operators();
    w.for_each_tensor([&](const std::string&, const at::Tensor&, WeightPrecision) { ++tensors; });
  }
  ASSERT_GT(tensors, 10u);
  ASSERT_GT(whole_load, int64_t(tensors)) << "the load must run ATen operators for each tensor";
  CancelToken cancel;
  test::CancelAfterOps cancel_half_way(&cancel, whole_load / 2);
  EXPECT_THROW(WanWeights::load(test::tiny_wan_config(), {file}, at::Device(at::kCPU), at::kFloat, &cancel),
               Cancelled);
  EXPECT_TRUE(cancel.is_cancelled());
  // Stopped within about one tensor's operators of the cancel (two tensors' worth allowed).
  const int64_t per_tensor = whole_load / int64_t(tensors) + 1;
  EXPECT_LE(cancel_half_way.operators(), whole_load / 2 + 2 * per_tensor)
      << "of " << whole_load << " operators in a whole load";
}

// Loading to a device and compute dtype converts each tensor on the way: Compute tensors in the
// dtype (equal to converting the float32 load), Float32 ones (norms, modulation, head) unchanged.
TEST(WanWeights, LoadsStraightToTheComputeDtype) {
  auto file = SafetensorsFile::open(test::testvector("wan/wan_dit_tiny.weights.safetensors"));
  const WanWeights fp32 = WanWeights::load(test::tiny_wan_config(), {file});
  const WanWeights bf16 = WanWeights::load(test::tiny_wan_config(), {file}, at::Device(at::kCPU), at::kBFloat16);
  std::map<std::string, at::Tensor> expected;
  fp32.for_each_tensor([&](const std::string& name, const at::Tensor& t, WeightPrecision) { expected[name] = t; });
  int compute = 0, float32 = 0;
  bf16.for_each_tensor([&](const std::string& name, const at::Tensor& t, WeightPrecision precision) {
    if (precision == WeightPrecision::Compute) {
      ++compute;
      EXPECT_EQ(t.scalar_type(), at::kBFloat16) << name;
      EXPECT_TRUE(at::equal(t, expected.at(name).to(at::kBFloat16))) << name;
    } else {
      ++float32;
      EXPECT_EQ(t.scalar_type(), at::kFloat) << name;
      EXPECT_TRUE(at::equal(t, expected.at(name))) << name;
    }
  });
  EXPECT_GT(compute, 0);
  EXPECT_GT(float32, 0);
}

TEST(WanWeights, MissingTensorsAreAllListed) {
  StateDict tensors;
  for (auto& [name, tensor] : tiny_state_dict()) {
    if (name != "blocks.1.ffn.2.bias" && name != "head.modulation") tensors.emplace_back(name, tensor);
  }
  const std::string error = load_error(tensors, "missing.safetensors");
  EXPECT_NE(error.find("2 tensors missing"), std::string::npos) << error;
  EXPECT_NE(error.find("missing: blocks.1.ffn.2.bias"), std::string::npos) << error;
  EXPECT_NE(error.find("missing: head.modulation"), std::string::npos) << error;
  EXPECT_NE(error.find("missing.safetensors"), std::string::npos) << error;
}

// Blocks past the config's layers (a model.json that lost a layer, another model size's
// checkpoint): refused, not run on the first blocks alone.
TEST(WanWeights, BlocksPastTheConfigsLayersAreRefused) {
  WanConfig fewer = test::tiny_wan_config();
  ASSERT_EQ(fewer.num_layers, 2);
  fewer.num_layers = 1;
  const auto dir = test::scratch_dir("wan_weights_extra_blocks");
  write_safetensors(dir / "deeper.safetensors", tiny_state_dict());
  try {
    WanWeights::load(fewer, {SafetensorsFile::open(dir / "deeper.safetensors")});
    ADD_FAILURE() << "loaded 2 blocks into a 1-layer config";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("deeper.safetensors hold 2 blocks, but its config has 1 layers (num_layers)"),
              std::string::npos)
        << e.what();
  }
}

// A tensor in two shards (a stale shard of another revision the folder still holds) names both
// files: taking the first found was a silent guess.
TEST(WanWeights, ATensorInTwoShardsNamesBoth) {
  const auto dir = test::scratch_dir("wan_weights_shards");
  StateDict first, second;
  for (auto& [name, tensor] : tiny_state_dict()) (name.starts_with("blocks.") ? second : first).emplace_back(name, tensor);
  first.emplace_back("blocks.1.ffn.2.bias", at::zeros_like(tiny_state_dict().back().second));
  write_safetensors(dir / "one.safetensors", first);
  write_safetensors(dir / "two.safetensors", second);
  try {
    WanWeights::load(test::tiny_wan_config(),
                     {SafetensorsFile::open(dir / "one.safetensors"), SafetensorsFile::open(dir / "two.safetensors")});
    ADD_FAILURE() << "loaded a tensor found twice";
  } catch (const WeightsError& e) {
    const std::string error = e.what();
    EXPECT_NE(error.find("'blocks.1.ffn.2.bias' is in both"), std::string::npos) << error;
    EXPECT_NE(error.find("one.safetensors"), std::string::npos) << error;
    EXPECT_NE(error.find("two.safetensors"), std::string::npos) << error;
  }
}

TEST(WanWeights, WrongShapesAreAllListed) {
  StateDict tensors = tiny_state_dict();
  for (auto& [name, tensor] : tensors) {
    if (name == "blocks.0.self_attn.q.weight") tensor = at::zeros({128, 64});
    if (name == "blocks.1.ffn.0.weight") tensor = at::zeros({255, 128});
  }
  const std::string error = load_error(tensors, "shapes.safetensors");
  EXPECT_NE(
      error.find("0 tensors missing, 2 with the wrong shape or type. Is this the checkpoint of another model size?"),
      std::string::npos)
      << error;
  EXPECT_NE(error.find("blocks.0.self_attn.q.weight: expected [128, 128], found [128, 64]"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("blocks.1.ffn.0.weight: expected [256, 128], found [255, 128]"),
            std::string::npos)
      << error;
}

// The header checks come before any tensor is read: a Wan 14B checkpoint of the wrong size fails
// in a moment, not after gigabytes. Here the file changes once it is open, which any read would
// report ("the file changed while it was being loaded"); the checks report the shapes instead.
TEST(WanWeights, ChecksTheHeadersBeforeReadingATensor) {
  StateDict tensors = tiny_state_dict();
  for (auto& [name, tensor] : tensors) {
    if (name == "head.head.weight") tensor = at::zeros({7, 128});
  }
  const auto dir = test::scratch_dir("wan_weights_headers_first");
  write_safetensors(dir / "late.safetensors", tensors);
  const auto file = SafetensorsFile::open(dir / "late.safetensors");
  std::ofstream(dir / "late.safetensors", std::ios::binary | std::ios::app) << "changed";
  for (const bool load : {false, true}) {
    try {
      if (load) {
        WanWeights::load(test::tiny_wan_config(), {file});
      } else {
        WanWeights::check_files(test::tiny_wan_config(), {file});
      }
      ADD_FAILURE() << "a misshapen head passed";
    } catch (const WeightsError& e) {
      EXPECT_NE(std::string(e.what()).find("wrong shape: head.head.weight: expected [64, 128], found [7, 128]"),
                std::string::npos)
          << e.what();
    }
  }
  // The same file whole passes the checks.
  write_safetensors(dir / "whole.safetensors", tiny_state_dict());
  EXPECT_NO_THROW(WanWeights::check_files(test::tiny_wan_config(), {SafetensorsFile::open(dir / "whole.safetensors")}));
}

TEST(WanWeights, IntegerTensorsAreRejected) {
  StateDict tensors = tiny_state_dict();
  for (auto& [name, tensor] : tensors) {
    if (name == "patch_embedding.bias") tensor = tensor.to(at::kLong);
  }
  const std::string error = load_error(tensors, "ints.safetensors");
  EXPECT_NE(error.find("wrong type: patch_embedding.bias"), std::string::npos) << error;
  EXPECT_EQ(error.find("another model size"), std::string::npos) << "a type is no size: " << error;
}

// A scaled fp8 weight's scale is floats of 16 or 32 bits, one value or one per row, and finite;
// anything else is named, not broadcast or multiplied in.
TEST(WanWeights, ScaledFp8WithABadScaleIsRefused) {
  struct Case {
    const char* file;
    at::Tensor scale;
    const char* says;
  };
  for (const Case& c : {Case{"misshapen.safetensors", at::ones({3}), "one float, or one per row of blocks.0.self_attn.q.weight"},
                        Case{"integer.safetensors", at::ones({1}, at::kInt), "found I32 [1]"},
                        Case{"nan.safetensors", at::full({}, NAN), "is not a finite number"},
                        Case{"e4m3.safetensors", at::ones({}).to(at::kFloat8_e4m3fn), "found F8_E4M3 []"}}) {
    for (bool e4m3 : {false, true}) {
      SCOPED_TRACE(std::string(c.file) + (e4m3 ? ", e4m3 weight" : ", float32 weight"));
      StateDict tensors = tiny_state_dict();
      for (auto& [name, tensor] : tensors) {
        if (e4m3 && name == "blocks.0.self_attn.q.weight") tensor = tensor.to(at::kFloat8_e4m3fn);
      }
      tensors.emplace_back("blocks.0.self_attn.q.scale_weight", c.scale);
      const std::string error = load_error(tensors, c.file);
      EXPECT_NE(error.find("wrong scale: blocks.0.self_attn.q.scale_weight"), std::string::npos) << error;
      EXPECT_NE(error.find(c.says), std::string::npos) << error;
    }
  }
  // Scales of infinity or NaN are damage, not another model size: said once, the file named once
  // (it had been a line per scale, each with the file's whole path, under "do not match the config").
  StateDict tensors = tiny_state_dict();
  for (const char* block : {"blocks.0", "blocks.1"}) {
    for (const char* linear : {"self_attn.q", "self_attn.k"}) {
      tensors.emplace_back(std::string(block) + "." + linear + ".scale_weight", at::full({}, INFINITY));
    }
  }
  const std::string error = load_error(tensors, "infinite.safetensors");
  EXPECT_NE(error.find("4 scales are not finite numbers"), std::string::npos) << error;
  EXPECT_NE(error.find("\n  wrong scale: blocks.1.self_attn.k.scale_weight"), std::string::npos) << error;
  EXPECT_EQ(error.find("do not match the config"), std::string::npos) << error;
  const size_t named = error.find("infinite.safetensors");
  ASSERT_NE(named, std::string::npos) << error;
  EXPECT_EQ(error.find("infinite.safetensors", named + 1), std::string::npos) << error;
}

// The same scales named from the headers alone (Model::load does so for each of a pair's experts
// before comparing how they are stored); a non-finite value, which only reading it shows, and a
// scaled fp8 file's own scales pass.
TEST(WanWeights, MisfitScalesAreNamedFromTheHeaders) {
  const auto dir = test::scratch_dir("wan_weights_misfit_scales");
  const auto refusal = [&](const StateDict& tensors, const std::string& file_name) -> std::string {
    write_safetensors(dir / file_name, tensors);
    try {
      WanWeights::refuse_misfit_scales(test::tiny_wan_config(), {SafetensorsFile::open(dir / file_name)});
    } catch (const WeightsError& e) {
      return e.what();
    }
    return "";
  };
  struct Case {
    const char* file;
    at::Tensor scale;
    const char* says;  // "" when the headers show nothing wrong
  };
  for (const Case& c : {Case{"misshapen.safetensors", at::ones({3}), "one float, or one per row of blocks.0.self_attn.q.weight"},
                        Case{"integer.safetensors", at::ones({1}, at::kInt), "found I32 [1]"},
                        Case{"e4m3.safetensors", at::ones({}).to(at::kFloat8_e4m3fn), "found F8_E4M3 []"},
                        Case{"nan.safetensors", at::full({}, NAN), ""}}) {
    SCOPED_TRACE(c.file);
    StateDict tensors = tiny_state_dict();
    for (auto& [name, tensor] : tensors) {
      if (name == "blocks.0.self_attn.q.weight") tensor = tensor.to(at::kFloat8_e4m3fn);
    }
    tensors.emplace_back("blocks.0.self_attn.q.scale_weight", c.scale);
    const std::string error = refusal(tensors, c.file);
    if (*c.says == '\0') {
      EXPECT_EQ(error, "");
      continue;
    }
    EXPECT_NE(error.find("1 scale that no scaled fp8 checkpoint stores"), std::string::npos) << error;
    EXPECT_NE(error.find("wrong scale: blocks.0.self_attn.q.scale_weight"), std::string::npos) << error;
    EXPECT_NE(error.find(c.says), std::string::npos) << error;
  }
  EXPECT_EQ(refusal(test::tiny_wan_scaled_fp8("model.diffusion_model.").stored, "scaled.safetensors"), "");
}

// A block's scaled fp8 linear weight stays e4m3 through load, to() and swap_places, its scale
// float32 beside it; a scaled weight outside the blocks is dequantised to the compute dtype as it loads.
TEST(WanWeights, ScaledFp8BlockLinearsStayE4m3) {
  StateDict tensors = tiny_state_dict();
  std::map<std::string, at::Tensor> quantised, scales;
  for (auto& [name, tensor] : tensors) {
    if (name != "blocks.1.ffn.2.weight" && name != "text_embedding.2.weight") continue;
    scales[name] = tensor.abs().max() / 448.0;
    quantised[name] = (tensor / scales[name]).to(at::kFloat8_e4m3fn);
    tensor = quantised[name];
  }
  tensors.emplace_back("blocks.1.ffn.2.scale_weight", scales["blocks.1.ffn.2.weight"].reshape({1}));
  tensors.emplace_back("text_embedding.2.scale_weight", scales["text_embedding.2.weight"]);
  const auto path = test::scratch_dir("wan_weights") / "fp8_bf16.safetensors";
  write_safetensors(path, tensors);
  const std::vector<std::shared_ptr<SafetensorsFile>> files{SafetensorsFile::open(path)};
  const WanWeights::Fp8Scales kept = WanWeights::fp8_scales(files);
  ASSERT_EQ(kept.size(), 1u);  // the blocks' linears only
  EXPECT_EQ(kept.at("blocks.1.ffn.2.scale_weight"), std::vector<int64_t>{});  // stored [1], held as one value

  WanWeights w = WanWeights::load(test::tiny_wan_config(), files, at::Device(at::kCPU), at::kBFloat16);
  EXPECT_TRUE(at::equal(w.blocks[1].ffn_2_weight, quantised["blocks.1.ffn.2.weight"]));
  EXPECT_EQ(w.blocks[1].ffn_2_scale.scalar_type(), at::kFloat);
  EXPECT_FALSE(w.blocks[1].ffn_0_scale.defined());
  EXPECT_FALSE(w.blocks[0].ffn_2_scale.defined());
  EXPECT_EQ(w.blocks[1].compute_dtype(), at::kBFloat16);
  const at::Tensor text = quantised["text_embedding.2.weight"];
  EXPECT_TRUE(at::equal(w.text_embedding_2_weight,
                        (text.to(at::kFloat) * scales["text_embedding.2.weight"]).to(at::kBFloat16)));

  w.to(at::kCPU, at::kFloat);
  EXPECT_EQ(w.blocks[1].ffn_2_weight.scalar_type(), at::kFloat8_e4m3fn);
  EXPECT_EQ(w.blocks[1].ffn_2_bias.scalar_type(), at::kFloat);
  WanWeights other = WanWeights::load(test::tiny_wan_config(), files);
  WanWeights::swap_places(w, other, at::kCPU, at::kBFloat16);
  for (const WanWeights* weights : {&w, &other}) {
    EXPECT_TRUE(at::equal(weights->blocks[1].ffn_2_weight, quantised["blocks.1.ffn.2.weight"]));
    EXPECT_TRUE(at::equal(weights->blocks[1].ffn_2_scale, scales["blocks.1.ffn.2.weight"]));
    EXPECT_EQ(weights->blocks[1].ffn_2_bias.scalar_type(), at::kBFloat16);
  }
}

// Quantising loaded weights as a scaled fp8 file stores them (the step bench's --fp8): every block
// linear in e4m3 with its scale, within e4m3's rounding of the original; a second call changes nothing.
TEST(WanWeights, BlockLinearsQuantiseToE4m3InPlace) {
  const WanWeights original = test::tiny_wan_weights();
  WanWeights w = test::tiny_wan_weights();
  w.keep_block_linears_in_fp8();
  for (WanBlockWeights& block : w.blocks) {
    for (const WanBlockWeights::Linear& linear : block.linears()) {
      EXPECT_EQ(linear.weight->scalar_type(), at::kFloat8_e4m3fn) << linear.name;
      EXPECT_EQ(linear.scale->numel(), 1) << linear.name;
    }
  }
  EXPECT_EQ(w.state_dict().size(), original.state_dict().size() + 10 * w.blocks.size());
  const WanBlockWeights& b = w.blocks[1];
  EXPECT_EQ(b.ffn_0_bias.scalar_type(), at::kFloat);
  EXPECT_EQ(w.text_embedding_2_weight.scalar_type(), at::kFloat);  // outside the blocks
  const at::Tensor back = dequantized_fp8(b.ffn_0_weight, b.ffn_0_scale, at::kFloat);
  const double err = (back - original.blocks[1].ffn_0_weight).norm().item<double>() /
                     original.blocks[1].ffn_0_weight.norm().item<double>();
  EXPECT_GT(err, 0.0);
  EXPECT_LT(err, 0.05);  // 3 mantissa bits: at most 2^-4 per weight
  const auto before = w.state_dict();
  w.keep_block_linears_in_fp8();
  const auto after = w.state_dict();
  ASSERT_EQ(after.size(), before.size());
  const auto bits = [](const at::Tensor& t) { return t.scalar_type() == at::kFloat8_e4m3fn ? t.view(at::kByte) : t; };
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(at::equal(bits(after[i].second), bits(before[i].second))) << after[i].first;
  }
}

// A load with quantize_fp8 (ModelOptions::dit_fp8) quantises each block linear the file holds
// wider, from the file's own values, to e4m3(weight / scale) with scale = max |weight| / 448; a
// weight the file keeps in fp8 keeps its own scale (per row here) or a scale of 1 (plain e4m3).
TEST(WanWeights, QuantiseFp8AsTheyLoad) {
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    SCOPED_TRACE(c10::toString(dtype));
    StateDict tensors = tiny_state_dict();
    at::Tensor row_scale;
    for (auto& [name, tensor] : tensors) {
      if (name == "blocks.0.ffn.0.weight") {
        row_scale = std::get<0>(tensor.abs().max(1)) / 448.0;
        tensor = (tensor / row_scale.unsqueeze(1)).to(at::kFloat8_e4m3fn);
      } else if (name == "blocks.1.self_attn.v.weight") {
        tensor = tensor.to(at::kFloat8_e4m3fn);
      } else {
        tensor = tensor.to(dtype);  // as the file holds it: the quantisation starts from these values
      }
    }
    tensors.emplace_back("blocks.0.ffn.0.scale_weight", row_scale.unsqueeze(1));  // [rows, 1], held as [rows]
    const auto path = test::scratch_dir("wan_weights") / "quantise.safetensors";
    write_safetensors(path, tensors);
    const std::vector<std::shared_ptr<SafetensorsFile>> files{SafetensorsFile::open(path)};
    WanWeights w = WanWeights::load(test::tiny_wan_config(), files, at::Device(at::kCPU), dtype, nullptr,
                                    /*quantize_fp8=*/true);
    std::map<std::string, at::Tensor> stored(tensors.begin(), tensors.end());
    const auto bits = [](const at::Tensor& t) { return t.view(at::kByte); };
    for (WanBlockWeights& block : w.blocks) {
      for (const WanBlockWeights::Linear& linear : block.linears()) {
        ASSERT_EQ(linear.weight->scalar_type(), at::kFloat8_e4m3fn) << linear.name;
      }
    }
    EXPECT_TRUE(at::equal(w.blocks[0].ffn_0_scale, row_scale));  // the file's own
    EXPECT_TRUE(at::equal(bits(w.blocks[0].ffn_0_weight), bits(stored["blocks.0.ffn.0.weight"])));
    EXPECT_TRUE(at::equal(w.blocks[1].self_attn_v_scale, at::ones({})));  // plain e4m3
    EXPECT_TRUE(at::equal(bits(w.blocks[1].self_attn_v_weight), bits(stored["blocks.1.self_attn.v.weight"])));
    const at::Tensor wide = stored["blocks.1.ffn.2.weight"].to(at::kFloat);
    const at::Tensor scale = wide.abs().max() / 448.0;
    EXPECT_TRUE(at::equal(w.blocks[1].ffn_2_scale, scale));
    EXPECT_TRUE(at::equal(bits(w.blocks[1].ffn_2_weight), bits((wide / scale).to(at::kFloat8_e4m3fn))));
    EXPECT_EQ(w.blocks[1].ffn_2_bias.scalar_type(), dtype);
  }
}

// ComfyUI's newer format keeps a scale per layer beside each fp8 weight, and a comfy_quant record.
TEST(WanWeights, LayerQuantizedFilesAreRejected) {
  for (const char* scale : {"blocks.0.self_attn.q.weight_scale", "blocks.1.ffn.0.comfy_quant"}) {
    StateDict tensors = tiny_state_dict();
    tensors.emplace_back(scale, at::ones({1}));
    const std::string error = load_error(tensors, "quantized.safetensors");
    EXPECT_NE(error.find(std::string("quantized per layer (") + scale + ")"), std::string::npos) << error;
  }
}

TEST(WanWeights, ToKeepsNormsAndModulationInFloat32) {
  WanWeights w = test::tiny_wan_weights();
  w.to(at::kCPU, at::kBFloat16);
  EXPECT_EQ(w.blocks[0].self_attn_q_weight.scalar_type(), at::kBFloat16);
  EXPECT_EQ(w.blocks[1].ffn_2_bias.scalar_type(), at::kBFloat16);
  EXPECT_EQ(w.patch_embedding_weight.scalar_type(), at::kBFloat16);
  EXPECT_EQ(w.text_embedding_0_weight.scalar_type(), at::kBFloat16);
  EXPECT_EQ(w.blocks[0].modulation.scalar_type(), at::kFloat);
  EXPECT_EQ(w.blocks[0].self_attn_norm_q_weight.scalar_type(), at::kFloat);
  EXPECT_EQ(w.blocks[0].norm3_bias.scalar_type(), at::kFloat);
  EXPECT_EQ(w.time_projection_1_weight.scalar_type(), at::kFloat);
  EXPECT_EQ(w.head_head_weight.scalar_type(), at::kFloat);
  EXPECT_EQ(w.head_modulation.scalar_type(), at::kFloat);
}

TEST(WanWeights, OptionalNormsFollowTheConfig) {
  WanConfig c = test::tiny_wan_config();
  c.qk_norm = false;
  c.cross_attn_norm = false;
  for (const auto& [name, tensor] : WanWeights::meta(c).state_dict()) {
    EXPECT_EQ(name.find("norm"), std::string::npos) << name;
  }
}

TEST(WanRandomWeights, DeterministicForASeedWithTheLayoutShapes) {
  const WanConfig c = test::tiny_wan_config();
  StateDict a = wan_random_weights(c, 7).state_dict();
  StateDict b = wan_random_weights(c, 7).state_dict();
  StateDict other = wan_random_weights(c, 8).state_dict();
  StateDict meta = WanWeights::meta(c).state_dict();
  ASSERT_EQ(a.size(), meta.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, meta[i].first);
    EXPECT_EQ(a[i].second.sizes(), meta[i].second.sizes()) << a[i].first;
    EXPECT_EQ(a[i].second.device(), at::Device(at::kCPU));
    EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
    EXPECT_FALSE(at::equal(a[i].second, other[i].second)) << a[i].first;
  }
}

// The benchmarks' draw on the device in the compute dtype: the same values as the float32 draw
// moved by to(), the matmul weights in bf16 and the rest in float32 (on the CPU, whose generator
// both draws share).
TEST(WanRandomWeights, DrawnInTheComputeDtypeAsToLeavesThem) {
  const WanConfig c = test::tiny_wan_config();
  WanWeights moved = wan_random_weights(c, 7);
  moved.to(at::Device(at::kCPU), at::kBFloat16);
  const StateDict expected = moved.state_dict();
  const StateDict drawn = wan_random_weights(c, 7, at::Device(at::kCPU), at::kBFloat16).state_dict();
  ASSERT_EQ(drawn.size(), expected.size());
  int bf16 = 0;
  for (size_t i = 0; i < drawn.size(); ++i) {
    EXPECT_EQ(drawn[i].first, expected[i].first);
    EXPECT_EQ(drawn[i].second.scalar_type(), expected[i].second.scalar_type()) << drawn[i].first;
    EXPECT_TRUE(at::equal(drawn[i].second, expected[i].second)) << drawn[i].first;
    bf16 += drawn[i].second.scalar_type() == at::kBFloat16;
  }
  EXPECT_GT(bf16, 0);
  EXPECT_LT(bf16, int(drawn.size()));
}

}  // namespace
}  // namespace svgear
