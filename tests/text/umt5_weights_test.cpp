// Umt5Weights loading errors: each says what is wrong and what to do.

#include "core/text/umt5_weights.h"

#include <fstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/cancel_token.h"
#include "core/text/umt5_weight_names.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_header.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"

namespace svgear {
namespace {

// The message of the WeightsError that loading `tensors` throws.
std::string load_error(const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  const auto path = test::write_tensors(test::scratch_dir("umt5_bad"), "umt5.safetensors", tensors);
  try {
    Umt5Weights::load(open_umt5_files({path}), at::kCPU, at::kFloat);
  } catch (const WeightsError& e) {
    return e.what();
  }
  ADD_FAILURE() << "loading did not throw";
  return "";
}

TEST(Umt5Weights, HuggingFaceNamesMapBothWays) {
  EXPECT_EQ(umt5_original_name("encoder.block.12.layer.0.SelfAttention.q.weight"),
            "blocks.12.attn.q.weight");
  EXPECT_EQ(
      umt5_original_name("encoder.block.3.layer.0.SelfAttention.relative_attention_bias.weight"),
      "blocks.3.pos_embedding.embedding.weight");
  EXPECT_EQ(umt5_original_name("encoder.block.0.layer.1.DenseReluDense.wi_0.weight"),
            "blocks.0.ffn.gate.0.weight");
  EXPECT_EQ(umt5_original_name("encoder.block.0.layer.1.DenseReluDense.wi_1.scale_weight"),
            "blocks.0.ffn.fc1.scale_weight");
  EXPECT_EQ(umt5_original_name("encoder.block.0.layer.1.DenseReluDense.wo.weight"),
            "blocks.0.ffn.fc2.weight");
  EXPECT_EQ(umt5_original_name("encoder.block.0.layer.1.layer_norm.weight"),
            "blocks.0.norm2.weight");
  EXPECT_EQ(umt5_original_name("encoder.final_layer_norm.weight"), "norm.weight");
  EXPECT_EQ(umt5_original_name("shared.weight"), "token_embedding.weight");
  EXPECT_EQ(umt5_original_name("encoder.embed_tokens.weight"), "token_embedding.weight");
  EXPECT_EQ(umt5_original_name("decoder.block.0.layer.0.SelfAttention.q.weight"), "");
  EXPECT_EQ(umt5_original_name("lm_head.weight"), "");
  for (const auto& [name, tensor] : test::tiny_umt5_state_dict()) {
    EXPECT_EQ(umt5_original_name(umt5_hf_name(name)), name);
  }
}

TEST(Umt5Weights, PicklesAreRefusedNamingTheSafetensorsFile) {
  const auto dir = test::scratch_dir("umt5_pickle");
  for (const char* name : {"models_t5_umt5-xxl-enc-bf16.pth", "umt5.ckpt", "pytorch_model.bin"}) {
    std::ofstream(dir / name) << "not loaded";
    try {
      open_umt5_files({dir / name});
      ADD_FAILURE() << name << " was opened";
    } catch (const WeightsError& e) {
      EXPECT_TRUE(test::contains(e.what(), name));
      EXPECT_TRUE(test::contains(e.what(), "pickle"));
      EXPECT_TRUE(test::contains(e.what(), "umt5_xxl_fp16.safetensors"));
    }
  }
}

TEST(Umt5Weights, MissingTensorsAreListed) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, tensor] : test::tiny_umt5_state_dict()) {
    if (name != "blocks.1.attn.k.weight" && name != "norm.weight")
      tensors.emplace_back(name, tensor);
  }
  const std::string message = load_error(tensors);
  EXPECT_TRUE(test::contains(message, "2 tensors missing"));
  EXPECT_TRUE(test::contains(message, "missing: blocks.1.attn.k.weight"));
  EXPECT_TRUE(test::contains(message, "missing: norm.weight"));
}

// ComfyUI's newer per-layer quantization: an fp8 weight with a weight_scale beside it would load off
// by its scale; refused, also by read_config (the model scan) before anything is read.
TEST(Umt5Weights, LayerQuantizedFilesAreRefused) {
  std::vector<std::pair<std::string, at::Tensor>> tensors = test::tiny_umt5_state_dict();
  tensors.emplace_back("blocks.0.attn.q.weight_scale", at::ones({}));
  const std::string message = load_error(tensors);
  EXPECT_TRUE(test::contains(message, "quantized per layer (blocks.0.attn.q.weight_scale)")) << message;
  tensors = test::tiny_umt5_state_dict();
  tensors.emplace_back("blocks.0.attn.q.comfy_quant", at::zeros({4}, at::kByte));
  const auto path = test::write_tensors(test::scratch_dir("umt5_comfy_quant"), "umt5.safetensors", tensors);
  try {
    Umt5Weights::read_config(open_umt5_files({path}));
    ADD_FAILURE() << "read_config took a per-layer quantized file";
  } catch (const WeightsError& e) {
    EXPECT_TRUE(test::contains(e.what(), "quantized per layer (blocks.0.attn.q.comfy_quant)")) << e.what();
  }
}

TEST(Umt5Weights, ShapeMismatchesListTensorExpectedAndFound) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, tensor] : test::tiny_umt5_state_dict()) {
    tensors.emplace_back(name, name == "blocks.0.ffn.fc2.weight" ? at::zeros({64, 100}) : tensor);
  }
  const std::string message = load_error(tensors);
  EXPECT_TRUE(test::contains(
      message, "wrong shape: blocks.0.ffn.fc2.weight: expected [64, 128], found [64, 100]"));
}

TEST(Umt5Weights, IntegerTensorsAreAnUnsupportedDtype) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, tensor] : test::tiny_umt5_state_dict()) {
    tensors.emplace_back(name, name == "blocks.0.norm1.weight" ? tensor.to(at::kInt) : tensor);
  }
  const std::string message = load_error(tensors);
  EXPECT_TRUE(test::contains(message, "unsupported dtype: blocks.0.norm1.weight is I32"));
  EXPECT_TRUE(test::contains(message, "F32, F16, BF16 or F8_E4M3"));
}

TEST(Umt5Weights, ADiTFileIsNotMistakenForTheEncoder) {
  const std::string message = load_error({{"blocks.0.self_attn.q.weight", at::zeros({4, 4})}});
  EXPECT_TRUE(test::contains(message, "no umT5 text encoder"));
  EXPECT_TRUE(test::contains(message, "umt5_xxl_fp16.safetensors"));
}

// Incomplete weights are reported from the headers, before any tensor is read: with a cancel token
// already set, a load that read first would stop at its first tensor instead.
TEST(Umt5Weights, ProblemsAreFoundBeforeAnyTensorIsRead) {
  const auto path = test::write_tensors(test::scratch_dir("umt5_header_first"), "umt5.safetensors",
                                        {{"token_embedding.weight", at::zeros({8, 4})},
                                         {"blocks.0.norm1.weight", at::zeros({4})}});
  CancelToken cancelled;
  cancelled.cancel();
  EXPECT_THROW(Umt5Weights::load(open_umt5_files({path}), at::kCPU, at::kFloat, &cancelled), WeightsError);
}

// A header of hundreds of empty layers is refused before their records are built.
TEST(Umt5Weights, TooManyLayersAreRefused) {
  std::vector<std::pair<std::string, at::Tensor>> tensors = {{"token_embedding.weight", at::zeros({8, 4})}};
  for (int i = 0; i < 300; ++i) tensors.emplace_back("blocks." + std::to_string(i) + ".norm1.weight", at::zeros({0}));
  const std::string message = load_error(tensors);
  EXPECT_TRUE(test::contains(message, "name 300 layers")) << message;
}

TEST(Umt5Weights, UnsupportedComputeDtypeIsRefused) {
  EXPECT_THROW(test::tiny_umt5_weights(at::kCPU, at::kFloat8_e4m3fn), UserError);
}

TEST(Umt5Weights, FindsTheEncoderInModelFolders) {
  namespace fs = std::filesystem;
  const auto comfy = test::scratch_dir("umt5_find_comfy");
  fs::copy_file(test::tiny_umt5_weights_path(), comfy / "umt5_xxl_fp8_e4m3fn_scaled.safetensors");
  EXPECT_EQ(find_umt5_files(comfy),
            std::vector<fs::path>{comfy / "umt5_xxl_fp8_e4m3fn_scaled.safetensors"});
  fs::copy_file(test::tiny_umt5_weights_path(), comfy / "umt5_xxl_fp16.safetensors");
  std::ofstream(comfy / "wan2.1_t2v_1.3B_fp16.safetensors") << "the DiT";
  EXPECT_EQ(find_umt5_files(comfy), std::vector<fs::path>{comfy / "umt5_xxl_fp16.safetensors"});
  // A ComfyUI models/ folder also holding Flux's T5 (which sorts first): the umT5 is the encoder.
  fs::create_directories(comfy / "text_encoders");
  std::ofstream(comfy / "text_encoders" / "t5xxl_fp16.safetensors") << "Flux's T5";
  std::ofstream(comfy / "t5xxl_fp8_e4m3fn.safetensors") << "Flux's T5, fp8";
  EXPECT_EQ(find_umt5_files(comfy), std::vector<fs::path>{comfy / "umt5_xxl_fp16.safetensors"});
  fs::remove(comfy / "umt5_xxl_fp16.safetensors");
  EXPECT_EQ(find_umt5_files(comfy), std::vector<fs::path>{comfy / "umt5_xxl_fp8_e4m3fn_scaled.safetensors"});

  const auto diffusers = test::scratch_dir("umt5_find_diffusers");
  fs::create_directories(diffusers / "text_encoder");
  std::ofstream(diffusers / "text_encoder" / "model-00002-of-00002.safetensors") << "";
  std::ofstream(diffusers / "text_encoder" / "model-00001-of-00002.safetensors") << "";
  std::ofstream(diffusers / "text_encoder" / "config.json") << "{}";
  EXPECT_EQ(
      find_umt5_files(diffusers),
      (std::vector<fs::path>{diffusers / "text_encoder" / "model-00001-of-00002.safetensors",
                             diffusers / "text_encoder" / "model-00002-of-00002.safetensors"}));
}

TEST(Umt5Weights, FolderWithoutTheEncoderSaysWhatToDownload) {
  const auto wan = test::scratch_dir("umt5_find_pickle");
  std::ofstream(wan / "models_t5_umt5-xxl-enc-bf16.pth") << "pickle";
  try {
    find_umt5_files(wan);
    ADD_FAILURE();
  } catch (const WeightsError& e) {
    EXPECT_TRUE(test::contains(e.what(), "models_t5_umt5-xxl-enc-bf16.pth' is a PyTorch pickle"));
  }
  const auto empty = test::scratch_dir("umt5_find_empty");
  try {
    find_umt5_files(empty);
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(test::contains(e.what(), (empty / "text_encoder" / "*.safetensors").string()));
    EXPECT_TRUE(test::contains(e.what(), "umt5_xxl_fp16.safetensors"));
  }
}

}  // namespace
}  // namespace svgear
