// Model::load of a vocabulary model: model.json's sizes are claims its weight files must back.

#include <algorithm>
#include <fstream>
#include <functional>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/pipeline/model.h"
#include "core/pipeline/model_manifest.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "svgear/build_config.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

// shapes-s's model.json with a text transformer of 64 layers of width 16384 (~206 billion weights)
// beside a 1.7 MB token table of that width: refused from the sizes, before anything that large is
// made, naming what model.json claims.
TEST(ModelLoad, ATextTransformerItsFilesCannotHoldIsRefusedBeforeItIsMade) {
  const auto dir = test::scratch_dir("model_load_huge_text");
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(SVGEAR_SOURCE_DIR "/resources/models/shapes-s/model.json"));
  manifest["dit"]["text_dim"] = 16384;
  manifest["text_encoder"]["layers"] = 64;
  manifest["text_encoder"]["heads"] = 1;
  manifest.erase("training");
  std::ofstream(dir / "model.json") << manifest.dump();
  const int64_t words = int64_t(manifest["text_encoder"]["vocabulary"].size());
  write_safetensors(dir / "model.safetensors",
                    {{"text_encoder.token_embedding.weight", at::zeros({words, 16384}, at::kBFloat16)}});
  try {
    Model::load(dir, c10::Device(c10::kCPU));
    ADD_FAILURE() << "loaded";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("64 transformer layers of width 16384"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("but its weight files hold"), std::string::npos) << e.what();
  }
}

// The text transformer's tensors are checked from the headers, by check_model_files (`svgear info
// --model`) as by a load: a missing one, one of whole numbers and one of another shape are named.
TEST(ModelLoad, TheTextTransformerIsCheckedFromTheHeaders) {
  const std::filesystem::path shipped = SVGEAR_SOURCE_DIR "/resources/models/shapes-s";
  const std::vector<std::string> checked = check_model_files(ModelManifest::read(shipped));
  const auto listed = [&](const std::string& line) { return std::find(checked.begin(), checked.end(), line) != checked.end(); };
  EXPECT_TRUE(listed("the text encoder's token table (52 words) and its transformer's 25 tensors (2 layers)"))
      << checked.front() << " …";

  const auto dir = test::scratch_dir("model_load_text_transformer");
  std::filesystem::copy_file(shipped / "model.json", dir / "model.json");
  const std::string damaged = "text_encoder.blocks.1.ffn.2.weight";
  const auto write_with = [&](const std::function<void(std::vector<std::pair<std::string, at::Tensor>>&)>& edit) {
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    const auto file = SafetensorsFile::open(shipped / "model.safetensors");
    for (const TensorEntry& entry : file->tensors()) tensors.emplace_back(entry.name, file->load(entry.name).clone());
    edit(tensors);
    write_safetensors(dir / "model.safetensors", tensors);
  };
  const auto expect_refused = [&](const std::string& message) {
    for (const bool loading : {false, true}) {
      try {
        if (loading) {
          (void)Model::load(dir, c10::Device(c10::kCPU));
        } else {
          (void)check_model_files(ModelManifest::read(dir));
        }
        ADD_FAILURE() << (loading ? "loaded" : "checked") << ", expected " << message;
      } catch (const UserError& e) {
        EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
      }
    }
  };
  write_with([&](auto& tensors) {
    std::erase_if(tensors, [&](const auto& named) { return named.first == damaged; });
  });
  expect_refused("2 transformer layers, but no weight file holds '" + damaged + "'");
  write_with([&](auto& tensors) {
    for (auto& [name, tensor] : tensors) {
      if (name == damaged) tensor = tensor.to(at::kLong);
    }
  });
  expect_refused("'" + damaged + "' holds I64 values, not floating-point weights");
  write_with([&](auto& tensors) {
    for (auto& [name, tensor] : tensors) {
      if (name == damaged) tensor = tensor.slice(1, 0, 8).contiguous();
    }
  });
  expect_refused("'" + damaged + "' has shape [128, 8], expected [128, 512]");
}

// A model folder that is a link to itself says so, not that its model.json is missing.
TEST(ModelLoad, AFolderThatLinksToItselfIsSaidSo) {
  const auto dir = test::scratch_dir("model_load_link_loop");
  std::filesystem::create_directory_symlink(dir / "loop", dir / "loop");
  for (const bool loading : {false, true}) {
    try {
      if (loading) {
        (void)Model::load(dir / "loop", c10::Device(c10::kCPU));
      } else {
        (void)read_model_manifest(dir / "loop");
      }
      ADD_FAILURE() << "read";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot open the model folder '" + (dir / "loop").string() +
                                           "': Too many levels of symbolic links"),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace svgear
