// Loading VAE files: pickles, other layouts, missing tensors, wrong shapes and dtypes, half
// precision. Every malformed file is written by the test from the tiny reference checkpoint.

#include "core/decoder/wan_vae_weights.h"

#include <fstream>
#include <iostream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/decoder/wan_vae.h"
#include "core/decoder/wan_vae_weight_names.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/decoder/tiny_wan_vae.h"
#include "tests/support/tensor_compare.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

using TensorList = std::vector<std::pair<std::string, at::Tensor>>;

TensorList tiny_tensors() {
  auto file = SafetensorsFile::open(test::tiny_wan_vae_path());
  TensorList tensors;
  for (const TensorEntry& entry : file->tensors()) tensors.emplace_back(entry.name, file->load(entry.name));
  return tensors;
}

// The tiny checkpoint, edited by `edit`, written as <scratch>/<file_name>.
std::filesystem::path write_edited(const std::string& file_name,
                                   const std::function<void(TensorList&)>& edit) {
  TensorList tensors = tiny_tensors();
  edit(tensors);
  const auto path = test::scratch_dir("vae_" + file_name) / file_name;
  write_safetensors(path, tensors);
  return path;
}

// The UserError message of loading `path`, or "" when it loads.
std::string load_error(const std::filesystem::path& path) {
  try {
    WanVaeWeights::load(path);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

void drop(TensorList& tensors, const std::string& name) {
  std::erase_if(tensors, [&](const auto& t) { return t.first == name; });
}

at::Tensor& find(TensorList& tensors, const std::string& name) {
  for (auto& [n, t] : tensors) {
    if (n == name) return t;
  }
  throw std::runtime_error("no tensor " + name);
}

TEST(WanVaeWeights, PicklesAreRefusedWithTheSafetensorsFileToUse) {
  const auto dir = test::scratch_dir("vae_pickles");
  for (const char* name : {"Wan2.1_VAE.pth", "vae.ckpt"}) {
    std::ofstream(dir / name) << "PK\x03\x04 not really a zip";
    const std::string message = load_error(dir / name);
    EXPECT_NE(message.find("pickle"), std::string::npos) << message;
    EXPECT_NE(message.find("wan_2.1_vae.safetensors"), std::string::npos) << message;
  }
  std::ofstream(dir / "Wan2.2_VAE.pth") << "x";
  EXPECT_NE(load_error(dir / "Wan2.2_VAE.pth").find("wan2.2_vae.safetensors"), std::string::npos);
}

TEST(WanVaeWeights, MissingTensorsAreAllListed) {
  const auto path = write_edited("missing.safetensors", [](TensorList& t) {
    drop(t, "decoder.head.2.bias");
    drop(t, "decoder.upsamples.3.time_conv.weight");
    drop(t, "decoder.middle.1.proj.weight");
  });
  const std::string message = load_error(path);
  for (const char* name : {"missing: decoder.head.2.bias", "missing: decoder.upsamples.3.time_conv.weight",
                           "missing: decoder.middle.1.proj.weight"}) {
    EXPECT_NE(message.find(name), std::string::npos) << message;
  }
  EXPECT_NE(message.find("3 tensors missing"), std::string::npos) << message;
}

TEST(WanVaeWeights, ShapeMismatchesNameTensorExpectedAndFound) {
  const auto path = write_edited("shape.safetensors", [](TensorList& t) {
    find(t, "decoder.middle.1.proj.weight") = at::zeros({32, 16, 1, 1});
  });
  const std::string message = load_error(path);
  EXPECT_NE(message.find("wrong shape: decoder.middle.1.proj.weight: expected [32, 32, 1, 1], "
                         "got [32, 16, 1, 1]"),
            std::string::npos)
      << message;
}

TEST(WanVaeWeights, UnsupportedDtypesAreNamed) {
  const auto path = write_edited("int.safetensors", [](TensorList& t) {
    at::Tensor& w = find(t, "decoder.conv1.bias");
    w = w.to(at::kInt);
  });
  const std::string message = load_error(path);
  EXPECT_NE(message.find("unsupported dtype: decoder.conv1.bias: I32"), std::string::npos) << message;
}

// Diffusers' AutoencoderKLWan names (vae/diffusion_pytorch_model.safetensors) load as the same
// weights (the encoder's tensors are left out of the file: the decoder does not read them).
TEST(WanVaeWeights, DiffusersLayoutLoadsTheSameWeights) {
  const auto path = write_edited("diffusers.safetensors", [](TensorList& t) {
    TensorList renamed;
    for (auto& [name, tensor] : t) {
      const std::string diffusers = wan_vae_diffusers_name(name, WanVaeVersion::Wan21, 2);
      if (!diffusers.empty()) renamed.emplace_back(diffusers, tensor);
    }
    t = renamed;
  });
  ASSERT_TRUE(SafetensorsFile::open(path)->contains("decoder.up_blocks.1.resnets.0.conv_shortcut.weight"));
  ASSERT_TRUE(SafetensorsFile::open(path)->contains("decoder.up_blocks.0.upsamplers.0.resample.1.weight"));
  WanVaeWeights diffusers = WanVaeWeights::load(path);
  WanVaeWeights original = WanVaeWeights::load(test::tiny_wan_vae_path());
  std::vector<std::pair<std::string, at::Tensor>> expected;
  original.for_each_tensor([&](const std::string& name, at::Tensor& t) { expected.emplace_back(name, t); });
  size_t i = 0;
  diffusers.for_each_tensor([&](const std::string& name, at::Tensor& t) {
    ASSERT_LT(i, expected.size());
    EXPECT_EQ(name, expected[i].first);
    EXPECT_TRUE(at::equal(t, expected[i].second)) << name;
    ++i;
  });
  EXPECT_EQ(i, expected.size());
}

TEST(WanVaeWeights, DiffusersNamesRoundTrip) {
  for (const char* name : {"conv2.weight", "decoder.conv1.bias", "decoder.middle.0.residual.0.gamma",
                           "decoder.middle.1.to_qkv.weight", "decoder.middle.2.residual.6.bias",
                           "decoder.upsamples.4.shortcut.weight", "decoder.upsamples.7.time_conv.weight",
                           "decoder.upsamples.11.resample.1.bias", "decoder.upsamples.14.residual.3.gamma",
                           "decoder.head.0.gamma", "decoder.head.2.weight"}) {
    const std::string diffusers = wan_vae_diffusers_name(name, WanVaeVersion::Wan21, 2);
    EXPECT_EQ(wan_vae_original_name(diffusers, WanVaeVersion::Wan21, 2), name);
  }
  EXPECT_EQ(wan_vae_diffusers_name("decoder.upsamples.4.shortcut.weight", WanVaeVersion::Wan21, 2),
            "decoder.up_blocks.1.resnets.0.conv_shortcut.weight");
  EXPECT_EQ(wan_vae_diffusers_name("decoder.upsamples.7.time_conv.weight", WanVaeVersion::Wan21, 2),
            "decoder.up_blocks.1.upsamplers.0.time_conv.weight");
  EXPECT_EQ(wan_vae_original_name("encoder.conv_in.weight", WanVaeVersion::Wan21, 2), "");
  EXPECT_EQ(wan_vae_original_name("quant_conv.weight", WanVaeVersion::Wan21, 2), "");
}

// A 48-channel conv2 marks the Wan 2.2 VAE even in a file of 2.1 names: the message names the
// 2.2 file and lists the 2.2 tensors the file lacks.
TEST(WanVaeWeights, FortyEightChannelsAreReadAsTheWan22Vae) {
  const auto path = write_edited("wan2.2_vae.safetensors", [](TensorList& t) {
    find(t, "conv2.weight") = at::zeros({48, 48, 1, 1, 1});
  });
  const std::string message = load_error(path);
  EXPECT_NE(message.find("is not a usable Wan 2.2 VAE"), std::string::npos) << message;
  EXPECT_NE(message.find("wan2.2_vae.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("missing: decoder.upsamples.0.upsamples.0.residual.0.gamma"), std::string::npos)
      << message;
}

// Zero-byte tensors can claim any size: a latent or stage width that is negative as an int, zero or
// past any VAE is not adopted, so the load lists the tensors whose shapes differ (it made a meta tensor of
// -5 channels, an internal error, or a VAE of 0 channels).
TEST(WanVaeWeights, ImpossibleSizesFromZeroByteTensorsNameTheTensor) {
  const int64_t wraps_to_minus_5 = (int64_t(1) << 32) - 5;
  const std::vector<std::pair<std::string, std::vector<int64_t>>> claims = {
      {"decoder.head.2.weight", {3, wraps_to_minus_5, 0, 3, 3}},
      {"decoder.head.2.weight", {3, 0, 3, 3, 3}},
      {"decoder.head.2.weight", {wraps_to_minus_5, 8, 0, 3, 3}},
      {"conv2.weight", {wraps_to_minus_5, 0, 1, 1, 1}},
      {"conv2.weight", {int64_t(1) << 40, 0, 1, 1, 1}},
  };
  for (size_t i = 0; i < claims.size(); ++i) {
    const auto& [name, shape] = claims[i];
    const auto path = write_edited("claims" + std::to_string(i) + ".safetensors",
                                   [&](TensorList& t) { find(t, name) = at::zeros(shape); });
    const std::string message = load_error(path);
    EXPECT_NE(message.find("is not a usable Wan 2.1 VAE"), std::string::npos) << name << ": " << message;
    EXPECT_NE(message.find("with the wrong shape"), std::string::npos) << name << ": " << message;
  }
}

TEST(WanVaeWeights, NotASafetensorsFileIsAUserError) {
  const auto path = test::scratch_dir("vae_garbage") / "vae.safetensors";
  std::ofstream(path) << "this is not a safetensors file";
  EXPECT_FALSE(load_error(path).empty());
}

TEST(WanVaeWeights, WrapperPrefixIsStripped) {
  const auto path = write_edited("prefixed.safetensors", [](TensorList& t) {
    for (auto& [name, tensor] : t) name = "vae." + name;
  });
  const test::TinyWanVaeIo io = test::tiny_wan_vae_io();
  EXPECT_TRUE(at::equal(WanVae(WanVaeWeights::load(path)).decode(io.z),
                        test::tiny_wan_vae().decode(io.z)));
}

// Half-precision files load as float32; the error is the weights' rounding.
TEST(WanVaeWeights, HalfPrecisionFilesLoadAndRun) {
  const test::TinyWanVaeIo io = test::tiny_wan_vae_io();
  for (auto [dtype, tolerance] : {std::pair{at::kBFloat16, 3e-2}, std::pair{at::kHalf, 3e-3}}) {
    const auto path = write_edited(std::string(c10::toString(dtype)) + ".safetensors",
                                   [dtype](TensorList& t) {
                                     for (auto& [name, tensor] : t) tensor = tensor.to(dtype);
                                   });
    WanVaeWeights w = WanVaeWeights::load(path);
    EXPECT_EQ(w.head_2_weight.scalar_type(), at::kFloat);
    const at::Tensor video = WanVae(std::move(w)).decode(io.z);
    std::cout << "[ measured ] " << c10::toString(dtype) << " weights: relative L2 "
              << test::relative_l2(video, io.video) << "\n";
    EXPECT_TRUE(test::tensors_close(video, io.video, tolerance)) << c10::toString(dtype);
  }
}

}  // namespace
}  // namespace svgear
