// Wan folders that cannot load say why and what to do: missing parts (with the files looked for),
// pickles (with the safetensors file to use), mixed layouts, shapes that do not fit.

#include "core/pipeline/wan_folder.h"

#include <fstream>
#include <sstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/pipeline/model.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/cli/cli_run.h"
#include "tests/support/scoped_env.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"
#include "tests/wan/tiny_wan_folder.h"

namespace svgear {
namespace {

namespace fs = std::filesystem;
using test::contains;
using test::load_error;

void write_bytes(const fs::path& path) { std::ofstream(path) << "PK\x03\x04 not a real pickle"; }

TEST(WanFolder, FindsThePartsOfBothLayouts) {
  const auto root = test::scratch_dir("wan_find");
  const WanFolder original = WanFolder::find(test::write_tiny_wan_original(root / "original"));
  EXPECT_EQ(original.layout, WanLayout::Original);
  ASSERT_EQ(original.dit_files.size(), 1u);
  EXPECT_EQ(original.dit_files[0].filename(), "wan2.1_t2v_tiny_fp32.safetensors");
  EXPECT_EQ(original.vae_file.filename(), "wan_2.1_vae.safetensors");
  ASSERT_EQ(original.text_encoder_files.size(), 1u);
  EXPECT_EQ(original.text_encoder_files[0].filename(), "umt5_xxl_fp16.safetensors");

  const WanFolder diffusers = WanFolder::find(test::write_tiny_wan_diffusers(root / "diffusers"));
  EXPECT_EQ(diffusers.layout, WanLayout::Diffusers);
  ASSERT_EQ(diffusers.dit_files.size(), 2u);
  EXPECT_EQ(diffusers.dit_files[1].filename(), "diffusion_pytorch_model-00002-of-00002.safetensors");
  EXPECT_EQ(diffusers.text_encoder_files.size(), 2u);
  EXPECT_EQ(diffusers.vae_file.filename(), "diffusion_pytorch_model.safetensors");
  EXPECT_EQ(diffusers.vae_file.parent_path().filename(), "vae");
}

// ComfyUI's files in its own folders, as `huggingface-cli download Comfy-Org/…` saves split_files/
// (diffusion_models/, text_encoders/, vae/): found, listed and loaded as if they sat together.
TEST(WanFolder, ComfyFoldersAsTheHuggingFaceCliSavesThem) {
  const auto root = test::scratch_dir("wan_split_files");
  const auto split = test::write_tiny_wan_original(root / "split_files");
  for (const auto& [file, folder] : {std::pair{"wan2.1_t2v_tiny_fp32.safetensors", "diffusion_models"},
                                     std::pair{"umt5_xxl_fp16.safetensors", "text_encoders"},
                                     std::pair{"wan_2.1_vae.safetensors", "vae"}}) {
    fs::create_directories(split / folder);
    fs::rename(split / file, split / folder / file);
  }
  const WanFolder found = WanFolder::find(split);
  ASSERT_EQ(found.dit_files.size(), 1u);
  EXPECT_EQ(found.dit_files[0], split / "diffusion_models" / "wan2.1_t2v_tiny_fp32.safetensors");
  ASSERT_EQ(found.text_encoder_files.size(), 1u);
  EXPECT_EQ(found.text_encoder_files[0], split / "text_encoders" / "umt5_xxl_fp16.safetensors");
  EXPECT_EQ(found.vae_file, split / "vae" / "wan_2.1_vae.safetensors");
  EXPECT_EQ(find_model_folders(root), std::vector<fs::path>{split});
  EXPECT_NO_THROW(Model::load(split, c10::Device(c10::kCPU)));
}

// A sharded DiT (Wan-AI's 14B layout: shards and their index at the top) beside a single DiT file is
// two models, refused as such, not the single one silently dropped.
TEST(WanFolder, AShardIndexBesideAnotherDiTIsRefused) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_index_and_single") / "model");
  fs::copy_file(dir / "wan2.1_t2v_tiny_fp32.safetensors", dir / "diffusion_pytorch_model-00001-of-00001.safetensors");
  std::ofstream(dir / "diffusion_pytorch_model.safetensors.index.json")
      << R"({"weight_map": {"patch_embedding.weight": "diffusion_pytorch_model-00001-of-00001.safetensors"}})";
  try {
    WanFolder::find(dir);
    ADD_FAILURE() << "found";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "wan2.1_t2v_tiny_fp32.safetensors: keep one per folder")) << e.what();
  }
  fs::remove(dir / "wan2.1_t2v_tiny_fp32.safetensors");
  EXPECT_EQ(WanFolder::find(dir).dit_files,
            std::vector<fs::path>{dir / "diffusion_pytorch_model-00001-of-00001.safetensors"});
}

// A ComfyUI models/ folder also holds image VAEs (Flux's ae.safetensors, SD's): their decoder.conv_in
// is a 2-D convolution, never a Wan VAE's 3-D one, so the Wan VAE beside them is the one found.
TEST(WanFolder, AnImageVaeIsNotTakenForTheWanVae) {
  const auto split = test::write_tiny_wan_original(test::scratch_dir("wan_image_vae") / "models");
  fs::create_directories(split / "vae");
  fs::rename(split / "wan_2.1_vae.safetensors", split / "vae" / "wan_2.1_vae.safetensors");
  write_safetensors(split / "vae" / "ae.safetensors",
                    {{"decoder.conv_in.weight", at::zeros({8, 4, 3, 3})}, {"decoder.conv_out.weight", at::zeros({3, 8, 3, 3})}});
  EXPECT_EQ(WanFolder::find(split).vae_file, split / "vae" / "wan_2.1_vae.safetensors");
  fs::remove(split / "vae" / "wan_2.1_vae.safetensors");
  // The image VAE alone is no Wan VAE, and the message says what it lacks.
  const std::string error = load_error(split);
  EXPECT_TRUE(contains(error, (split / "vae" / "ae.safetensors").string() + " holds no such 3-D convolution"))
      << error;
}

// svgear info, the studio's model picker and --model NAME list Wan folders that have no model.json;
// an incomplete one is not listed as a model but named with why, and unrelated folders (notes,
// weights with no Wan diffusion model among them: LoRAs, a VAE alone) are passed over.
TEST(WanFolder, ModelListingsIncludeWanFoldersWithoutModelJson) {
  const auto root = test::scratch_dir("wan_listing");
  test::write_tiny_wan_original(root / "b-original");
  test::write_tiny_wan_diffusers(root / "a-diffusers");
  const fs::path incomplete = test::write_tiny_wan_original(root / "c-incomplete");
  fs::remove(incomplete / "wan_2.1_vae.safetensors");
  fs::create_directories(root / "d-notes");
  std::ofstream(root / "d-notes" / "readme.txt") << "not a model";
  // Links that loop end no listing (the studio lists at start-up): a folder linked to itself, a
  // model.json linked to itself, a transformer/ linked to itself.
  fs::create_directory_symlink(root / "e-loop", root / "e-loop");
  fs::create_directories(root / "f-looped-json");
  fs::create_symlink(root / "f-looped-json" / "model.json", root / "f-looped-json" / "model.json");
  fs::create_directories(root / "g-looped-transformer");
  fs::create_directory_symlink(root / "g-looped-transformer" / "transformer", root / "g-looped-transformer" / "transformer");
  const fs::path vae_alone = root / "h-vae-alone";
  fs::create_directories(vae_alone);
  fs::copy_file(root / "b-original" / "wan_2.1_vae.safetensors", vae_alone / "wan_2.1_vae.safetensors");
  // Other weights: LoRAs beside a pickle, another model's Diffusers pipeline, a damaged file.
  const fs::path loras = root / "i-loras", pipeline = root / "j-other-pipeline", damaged = root / "k-damaged";
  fs::create_directories(loras);
  write_safetensors(loras / "style.safetensors", {{"lora_unet_down.weight", at::zeros({4, 4})}});
  std::ofstream(loras / "old.pt") << "pickle";
  fs::create_directories(pipeline / "transformer");
  write_safetensors(pipeline / "transformer" / "diffusion_pytorch_model.safetensors",
                    {{"x_embedder.weight", at::zeros({4, 4})}});
  fs::create_directories(damaged);
  std::ofstream(damaged / "wan2.1_t2v_1.3B_bf16.safetensors") << "version https://git-lfs.github.com/spec/v1";
  std::vector<NotAModel> not_models;
  const std::vector<fs::path> found = find_model_folders(root, &not_models);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].filename(), "a-diffusers");
  EXPECT_EQ(found[1].filename(), "b-original");
  ASSERT_EQ(not_models.size(), 1u);
  EXPECT_EQ(not_models[0].folder, incomplete);
  EXPECT_TRUE(contains(not_models[0].why, "no Wan VAE in '" + incomplete.string() + "'")) << not_models[0].why;
  EXPECT_EQ(find_model_folders(root), found);  // the same without asking for them

  // The CLI's listing names it with why.
  const test::ScopedEnv models("SVGEAR_MODELS");
  ::setenv("SVGEAR_MODELS", root.c_str(), 1);
  const test::CliRun info = test::run_cli("info");
  EXPECT_TRUE(contains(info.output, "note: " + incomplete.string() + " holds a Wan diffusion model but is no model: "
                                    "no Wan VAE in")) << info.output;
  for (const fs::path& other : {vae_alone, loras, pipeline, damaged}) {
    EXPECT_FALSE(contains(info.output, other.string())) << info.output;
  }
  // Named once where two roots reach it (the folder itself and its parent).
  ::setenv("SVGEAR_MODELS", (root.string() + ":" + incomplete.string()).c_str(), 1);
  const test::CliRun twice = test::run_cli("info");
  const size_t first = twice.output.find("note: " + incomplete.string() + " holds");
  ASSERT_NE(first, std::string::npos) << twice.output;
  EXPECT_EQ(twice.output.find("note: " + incomplete.string() + " holds", first + 1), std::string::npos) << twice.output;

  // A root that is itself a Wan folder missing a part is named, not also its diffusion_models/.
  const fs::path comfy = root / "l-comfy";
  fs::create_directories(comfy / "diffusion_models");
  fs::copy(incomplete, comfy, fs::copy_options::recursive);
  const std::string dit = "wan2.1_t2v_tiny_fp32.safetensors";
  fs::rename(comfy / dit, comfy / "diffusion_models" / dit);
  std::vector<NotAModel> comfy_not_models;
  EXPECT_TRUE(find_model_folders(comfy, &comfy_not_models).empty());
  ASSERT_EQ(comfy_not_models.size(), 1u);
  EXPECT_EQ(comfy_not_models[0].folder, comfy);
}

// An index's shards sit beside it: one named outside the folder is refused, not read (it loaded
// "../x", and read "/etc/passwd" as a safetensors file).
TEST(WanFolder, IndexShardsOutsideTheFolderAreRefused) {
  const fs::path dir = test::write_tiny_wan_diffusers(test::scratch_dir("wan_index_escape") / "model");
  const fs::path index = dir / "transformer" / "diffusion_pytorch_model.safetensors.index.json";
  const fs::path shard = dir / "transformer" / "diffusion_pytorch_model-00001-of-00002.safetensors";
  ASSERT_TRUE(fs::exists(shard));
  fs::copy_file(shard, dir.parent_path() / "outside.safetensors");
  const std::vector<std::string> names = {"../../outside.safetensors", (dir.parent_path() / "outside.safetensors").string(),
                                          "/etc/passwd"};
  for (const std::string& name : names) {
    nlohmann::json j = nlohmann::json::parse(std::ifstream(index));
    for (auto& [tensor, file] : j["weight_map"].items()) {
      if (file == shard.filename().string()) file = name;
    }
    std::ofstream(index) << j.dump();
    const std::string error = load_error(dir);
    EXPECT_TRUE(contains(error, "'" + name + "', is not a file beside the index")) << error;
    for (auto& [tensor, file] : j["weight_map"].items()) {
      if (file == name) file = shard.filename().string();
    }
    std::ofstream(index) << j.dump();
  }
}

// The error loading `dir` once `file`, in it, has each tensor whose name holds `part` replaced by
// `replacement` (a damaged or hostile file's claims); the file is read afresh each time.
std::string error_with(const fs::path& dir, const fs::path& file, const std::string& part, const at::Tensor& replacement) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  {
    const auto opened = SafetensorsFile::open(file);
    for (const TensorEntry& entry : opened->tensors()) {
      tensors.emplace_back(entry.name, entry.name.find(part) != std::string::npos ? replacement : opened->load(entry.name));
    }
  }
  write_safetensors(file, tensors);
  return load_error(dir);
}

// A umT5 whose zero-byte tensors claim no heads, too few position buckets or a one-row vocabulary
// is refused when it loads (0 heads divided by zero; the others failed inside a generation).
TEST(WanFolder, AUmt5WithImpossibleSizesIsRefused) {
  const fs::path dir = test::write_tiny_wan_original(test::scratch_dir("wan_umt5_sizes") / "model");
  const fs::path umt5 = dir / "umt5_xxl_fp16.safetensors";
  const auto with = [&](const std::string& part, const at::Tensor& replacement) {
    const std::string error = error_with(dir, umt5, part, replacement);
    test::write_tiny_wan_original(dir);  // the intact files again for the next case
    return error;
  };
  // [buckets, heads] of the relative position bias; [vocab, dim] of the shared embedding.
  EXPECT_TRUE(contains(with("relative_attention_bias", at::zeros({32, 0}, at::kHalf)), "0 heads")) << "no heads";
  EXPECT_TRUE(contains(with("relative_attention_bias", at::zeros({1, 4}, at::kHalf)), "1 relative-position buckets"));
  EXPECT_TRUE(contains(with("shared.weight", at::zeros({1, 0}, at::kHalf)), "token embedding has 1 rows"));
}

// The DiT's sizes come from its tensors' shapes, which a damaged file sets to anything: sizes past
// int (a zero-byte tensor's) and configurations a model.json could not have are refused at load
// (they wrapped to negative sizes, or failed inside a generation as internal errors).
TEST(WanFolder, ADitWithImpossibleSizesIsRefused) {
  const fs::path dir = test::write_tiny_wan_original(test::scratch_dir("wan_dit_sizes") / "model");
  const fs::path dit = dir / "wan2.1_t2v_tiny_fp32.safetensors";
  const auto with = [&](const std::string& part, const at::Tensor& replacement) {
    const std::string error = error_with(dir, dit, part, replacement);
    test::write_tiny_wan_original(dir);
    return error;
  };
  const std::string huge = with("blocks.0.ffn.0.weight", at::zeros({(int64_t(1) << 32) - 5, 128, 0}));
  EXPECT_TRUE(contains(huge, "blocks.0.ffn.0.weight's size 0 is 4294967291, which no Wan DiT has")) << huge;
  const std::string odd = with("time_embedding.0.weight", at::zeros({128, 255}));
  EXPECT_TRUE(contains(odd, "impossible configuration")) << odd;
  EXPECT_TRUE(contains(odd, "freq_dim 255 must be even")) << odd;
}

// Heads that do not divide the width name the key and the config.json that gave them (Diffusers'
// num_attention_heads in transformer/, not "num_heads in config.json").
TEST(WanFolder, HeadsThatDoNotDivideTheWidthNameTheirConfig) {
  const fs::path dir = test::write_tiny_wan_diffusers(test::scratch_dir("wan_heads") / "model");
  const fs::path config = dir / "transformer" / "config.json";
  nlohmann::json j = nlohmann::json::parse(std::ifstream(config));
  j["num_attention_heads"] = 3;
  std::ofstream(config, std::ios::trunc) << j.dump();
  try {
    (void)read_wan_manifest(dir);
    ADD_FAILURE() << "3 heads were taken";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "3 attention heads do not divide dim 128")) << e.what();
    EXPECT_TRUE(contains(e.what(), "fix 'num_attention_heads' in " + config.string())) << e.what();
  }
}

TEST(WanFolder, MissingVaeSaysWhatWasLookedForAndWhatToDownload) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_no_vae") / "model");
  fs::remove(dir / "wan_2.1_vae.safetensors");
  const std::string error = load_error(dir);
  EXPECT_TRUE(contains(error, "no Wan VAE in"));
  EXPECT_TRUE(contains(error, (dir / "vae").string()));
  EXPECT_TRUE(contains(error, "wan_2.1_vae.safetensors (Comfy-Org/Wan_2.1_ComfyUI_repackaged"));
}

TEST(WanFolder, MissingTokenizerAndTextEncoderListThePaths) {
  const auto root = test::scratch_dir("wan_missing");
  const auto no_tokenizer = test::write_tiny_wan_original(root / "no_tokenizer");
  fs::remove_all(no_tokenizer / "google");
  std::string error = load_error(no_tokenizer);
  EXPECT_TRUE(contains(error, "no umT5 tokenizer found: looked for"));
  EXPECT_TRUE(contains(error, (no_tokenizer / "google" / "umt5-xxl" / "tokenizer.json").string()));
  // The studio's model list reads the manifest only: such a folder is not listed as loadable.
  EXPECT_THROW(read_wan_manifest(no_tokenizer), UserError);

  const auto no_encoder = test::write_tiny_wan_original(root / "no_encoder");
  fs::remove(no_encoder / "umt5_xxl_fp16.safetensors");
  error = load_error(no_encoder);
  EXPECT_TRUE(contains(error, "no umT5 text encoder in"));
  EXPECT_TRUE(contains(error, "umt5_xxl_fp16.safetensors"));
}

TEST(WanFolder, PicklesAreRefusedWithTheSafetensorsFileToUse) {
  const auto root = test::scratch_dir("wan_pickles");
  const auto only = root / "only_pickles";
  fs::create_directories(only);
  write_bytes(only / "wan2.1_t2v_1.3B.pth");
  std::string error = load_error(only);
  EXPECT_TRUE(contains(error, "wan2.1_t2v_1.3B.pth' is a PyTorch pickle"));
  EXPECT_TRUE(contains(error, "wan2.1_t2v_1.3B_bf16.safetensors"));

  // Wan-AI's original repository: DiT in safetensors, VAE and umT5 as pickles.
  const auto vae = test::write_tiny_wan_original(root / "vae_pickle");
  fs::remove(vae / "wan_2.1_vae.safetensors");
  write_bytes(vae / "Wan2.1_VAE.pth");
  error = load_error(vae);
  EXPECT_TRUE(contains(error, "Wan2.1_VAE.pth' is a PyTorch pickle"));
  EXPECT_TRUE(contains(error, "wan_2.1_vae.safetensors"));

  const auto t5 = test::write_tiny_wan_original(root / "t5_pickle");
  fs::remove(t5 / "umt5_xxl_fp16.safetensors");
  write_bytes(t5 / "models_t5_umt5-xxl-enc-bf16.pth");
  error = load_error(t5);
  EXPECT_TRUE(contains(error, "is a PyTorch pickle"));
  EXPECT_TRUE(contains(error, "umt5_xxl_fp16.safetensors"));

  const auto shards = test::write_tiny_wan_diffusers(root / "diffusers_bin");
  fs::remove_all(shards / "transformer");
  fs::create_directories(shards / "transformer");
  write_bytes(shards / "transformer" / "diffusion_pytorch_model.bin");
  error = load_error(shards);
  EXPECT_TRUE(contains(error, "diffusion_pytorch_model.bin' is a PyTorch pickle by its extension"));
  EXPECT_TRUE(contains(error, "transformer/diffusion_pytorch_model*.safetensors"));
}

// Wan-AI/Wan2.2-TI2V-5B ships its VAE as Wan2.2_VAE.pth: the file to use instead is the 2.2 VAE's
// (the Wan 2.1 one would be refused next, as the other version).
TEST(WanFolder, Wan22VaePickleIsRefusedWithTheWan22Safetensors) {
  const auto dir = test::write_tiny_wan22_ti2v_original(test::scratch_dir("wan22_vae_pickle") / "model");
  fs::remove(dir / "wan2.2_vae.safetensors");
  write_bytes(dir / "Wan2.2_VAE.pth");
  const std::string error = load_error(dir);
  EXPECT_TRUE(contains(error, "Wan2.2_VAE.pth' is a PyTorch pickle")) << error;
  EXPECT_TRUE(contains(error, "Use wan2.2_vae.safetensors (Comfy-Org/Wan_2.2_ComfyUI_Repackaged, split_files/vae/)"))
      << error;
  EXPECT_FALSE(contains(error, "wan_2.1_vae")) << error;
}

TEST(WanFolder, IncompleteDiffusersVaeListsTheMissingTensors) {
  const auto dir = test::write_tiny_wan_diffusers(test::scratch_dir("wan_diffusers_vae") / "model");
  write_safetensors(dir / "vae" / "diffusion_pytorch_model.safetensors",
                    {{"decoder.conv_in.weight", at::zeros({32, 16, 3, 3, 3})}});
  const std::string error = load_error(dir);
  EXPECT_TRUE(contains(error, "is not a usable Wan 2.1 VAE")) << error;
  // All but one tensor are missing: the first 20 named, then a count (tensor_problem_lines).
  EXPECT_TRUE(contains(error, "107 tensors missing")) << error;
  EXPECT_TRUE(contains(error, "\n  missing: conv2.weight")) << error;
  EXPECT_TRUE(contains(error, "\n  … and 87 more missing")) << error;
}

// A VAE file that lost one tensor says that one. Without decoder.head.2.weight, which gives the
// VAE's width, the width comes from the decoder's first convolution: else the file read as a VAE
// of upstream's width, and its other 104 decoder tensors were listed as misfit.
TEST(WanFolder, AVaeMissingOneTensorNamesThatTensorAlone) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_vae_one_missing") / "model");
  const fs::path vae = dir / "wan_2.1_vae.safetensors";
  const auto without = [&](const std::string& lost) {
    std::vector<std::pair<std::string, at::Tensor>> kept;
    {
      const auto file = SafetensorsFile::open(vae);
      for (const TensorEntry& entry : file->tensors()) {
        if (entry.name != lost) kept.emplace_back(entry.name, file->load(entry.name));
      }
    }
    write_safetensors(vae, kept);
  };
  without("decoder.head.2.weight");
  const std::string error = load_error(dir);
  EXPECT_TRUE(contains(error, "1 tensor missing, 0 with the wrong shape or dtype")) << error;
  EXPECT_TRUE(contains(error, "\n  missing: decoder.head.2.weight")) << error;
  EXPECT_FALSE(contains(error, "wrong shape:")) << error;

  // Without the convolution a Wan VAE is known by, the file whose name says VAE is named.
  without("decoder.conv1.weight");
  const std::string unknown = load_error(dir);
  EXPECT_TRUE(contains(unknown, "no Wan VAE in")) << unknown;
  EXPECT_TRUE(contains(unknown, vae.string() + " holds no such 3-D convolution: it is damaged")) << unknown;
}

TEST(WanFolder, MixedLayoutsAndTwoModelsAreRefused) {
  const auto root = test::scratch_dir("wan_mixed");
  const auto mixed = test::write_tiny_wan_original(root / "mixed");
  test::write_tiny_wan_diffusers(root / "d");
  fs::copy(root / "d" / "transformer", mixed / "transformer");
  std::string error = load_error(mixed);
  EXPECT_TRUE(contains(error, "mixes two layouts"));
  EXPECT_TRUE(contains(error, "wan2.1_t2v_tiny_fp32.safetensors"));

  const auto two = test::write_tiny_wan_original(root / "two");
  fs::copy_file(two / "wan2.1_t2v_tiny_fp32.safetensors", two / "wan2.1_t2v_other_fp32.safetensors");
  error = load_error(two);
  EXPECT_TRUE(contains(error, "holds 2 diffusion models"));

  // Wan2.2-A14B's pairs of experts and their refusals: wan_a14b_test.cpp.

  const auto empty = root / "empty";
  fs::create_directories(empty);
  error = load_error(empty);
  EXPECT_TRUE(contains(error, "no model.json"));
  EXPECT_TRUE(contains(error, (empty / "transformer").string()));
}

// ComfyUI's per-layer quantized DiT is refused from its header when the folder is read, before the
// text encoder's gigabytes: it listed as complete and failed only after umT5 and the VAE had loaded.
TEST(WanFolder, LayerQuantizedDiTIsRefusedWhenTheFolderIsRead) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_layer_quantized") / "w");
  const fs::path dit = dir / "wan2.1_t2v_tiny_fp32.safetensors";
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  {
    const auto file = SafetensorsFile::open(dit);
    for (const TensorEntry& entry : file->tensors()) tensors.emplace_back(entry.name, file->load(entry.name));
  }
  tensors.emplace_back("blocks.0.ffn.0.comfy_quant", at::zeros({2}));
  fs::remove(dit);
  write_safetensors(dit, tensors);
  try {
    (void)read_wan_manifest(dir);
    ADD_FAILURE() << "expected the per-layer quantized file to be refused";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "are quantized per layer (blocks.0.ffn.0.comfy_quant)")) << e.what();
  }
}

// A shard that is not there is named; one whose name holds no file (a folder) says what it is.
TEST(WanFolder, MissingShardIsNamed) {
  const auto dir = test::write_tiny_wan_diffusers(test::scratch_dir("wan_shard") / "model");
  const fs::path shard = dir / "transformer" / "diffusion_pytorch_model-00002-of-00002.safetensors";
  fs::remove(shard);
  std::string error = load_error(dir);
  EXPECT_TRUE(contains(error, "lists shards that are missing or hold no file"));
  EXPECT_TRUE(contains(error, "\n  " + shard.string()));
  fs::create_directory(shard);
  error = load_error(dir);
  EXPECT_TRUE(contains(error, shard.string() + " (there, but a folder)"));
}

// File-system trouble inside a folder (a shard name too long for the system, a link loop where a
// shard or the tokenizer should be, config.json that is a folder) is the folder's fault: a
// UserError naming the path, not an internal error.
TEST(WanFolder, FileSystemTroubleNamesThePath) {
  const fs::path dir = test::write_tiny_wan_diffusers(test::scratch_dir("wan_fs_trouble") / "model");
  const fs::path index = dir / "transformer" / "diffusion_pytorch_model.safetensors.index.json";
  const fs::path shard = dir / "transformer" / "diffusion_pytorch_model-00001-of-00002.safetensors";
  const std::string kept = (std::ostringstream() << std::ifstream(index).rdbuf()).str();
  nlohmann::json j = nlohmann::json::parse(kept);
  const std::string long_name(5000, 'x');
  for (auto& [tensor, file] : j["weight_map"].items()) {
    if (file == shard.filename().string()) file = long_name;
  }
  std::ofstream(index) << j.dump();
  std::string error = load_error(dir);
  EXPECT_TRUE(contains(error, long_name.substr(0, 100))) << error.substr(0, 300);
  std::ofstream(index) << kept;

  const fs::path moved = dir.parent_path() / "shard.safetensors";
  fs::rename(shard, moved);
  fs::create_symlink(shard.filename(), shard);  // a link to itself
  error = load_error(dir);
  EXPECT_TRUE(contains(error, shard.string())) << error;
  fs::remove(shard);
  fs::rename(moved, shard);

  const fs::path config = dir / "transformer" / "config.json";
  fs::rename(config, dir.parent_path() / "config.json");
  fs::create_directory(config);
  error = load_error(dir);
  EXPECT_TRUE(contains(error, config.string())) << error;
  fs::remove(config);
  fs::rename(dir.parent_path() / "config.json", config);

  const fs::path tokenizer = dir / "tokenizer" / "tokenizer.json";
  fs::rename(tokenizer, dir.parent_path() / "tokenizer.json");
  fs::create_symlink(tokenizer.filename(), tokenizer);
  error = load_error(dir);
  EXPECT_TRUE(contains(error, tokenizer.string())) << error;
}

TEST(WanFolder, ShapeMismatchesListTheTensors) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_shapes") / "model");
  const auto path = dir / "wan2.1_t2v_tiny_fp32.safetensors";
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  {
    auto file = SafetensorsFile::open(path);
    for (const TensorEntry& entry : file->tensors()) {
      at::Tensor t = file->load(entry.name);
      if (entry.name.ends_with("blocks.1.ffn.0.weight")) t = at::zeros({200, 128});
      if (entry.name.ends_with("blocks.1.self_attn.k.bias")) continue;
      tensors.emplace_back(entry.name, t);
    }
  }
  write_safetensors(path, tensors);
  const std::string error = load_error(dir);
  EXPECT_TRUE(contains(error, "wrong shape: blocks.1.ffn.0.weight: expected [256, 128], found [200, 128]"));
  EXPECT_TRUE(contains(error, "missing: blocks.1.self_attn.k.bias"));

  // A text encoder of another width than the DiT's text_dim.
  const auto wide = test::write_tiny_wan_original(test::scratch_dir("wan_text_dim") / "model");
  auto umt5 = test::tiny_umt5_state_dict();
  for (auto& [name, t] : umt5) {
    std::vector<int64_t> shape = t.sizes().vec();
    for (auto& s : shape) s = s == 64 ? 32 : s;  // dim 64 → 32
    t = at::zeros(shape);
  }
  fs::remove(wide / "umt5_xxl_fp16.safetensors");
  write_safetensors(wide / "umt5_xxl_fp32.safetensors", umt5);
  const std::string text_error = load_error(wide);
  EXPECT_TRUE(contains(text_error, "has width 32 but")) << text_error;
  EXPECT_TRUE(contains(text_error, "expects 64: they belong to different models")) << text_error;
  EXPECT_THROW(read_wan_manifest(wide), UserError);  // from the headers, before any weight is read
}

}  // namespace
}  // namespace svgear
