// Model::load of a vocabulary model: model.json's sizes are claims its weight files must back.

#include <fstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/pipeline/model.h"
#include "core/user_error.h"
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
  const int64_t words = int64_t(manifest["text_encoder"]["vocabulary"].size()) + 1;
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

}  // namespace
}  // namespace svgear
