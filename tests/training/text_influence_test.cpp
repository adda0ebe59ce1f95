// Text influence measures what a word changes: a model whose token table gives every shape word the
// same row cannot be steered by the shape word (influence exactly zero), while its colour word
// still moves the estimate; the same model with its own rows reads both.

#include "core/evaluation/text_influence.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/pipeline/model.h"
#include "core/shapes/prompt_grammar.h"
#include "core/training/flow_matching_trainer.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

TEST(TextInfluence, AShapeWordTheTableCannotTellApartHasNone) {
  const auto dir = test::scratch_dir("text_influence");
  TrainingRecipe recipe;
  recipe.batch = 2;
  recipe.seed = 3;
  FlowMatchingTrainer trainer(shapes_model_preset("shapes-tiny"), recipe, at::kCPU);
  trainer.step();
  trainer.export_model(dir / "model", "test");

  // The same export with every shape word's row replaced by the circle's.
  std::filesystem::copy(dir / "model", dir / "blind", std::filesystem::copy_options::recursive);
  const auto file = SafetensorsFile::open(dir / "model" / "model.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const TensorEntry& entry : file->tensors()) tensors.emplace_back(entry.name, file->load(entry.name));
  const std::vector<std::string>& vocabulary = trainer.spec().vocabulary;
  const auto row_of = [&](const std::string& word) {
    return int64_t(std::find(vocabulary.begin(), vocabulary.end(), word) - vocabulary.begin());
  };
  for (auto& [name, tensor] : tensors) {
    if (name != "text_encoder.token_embedding.weight") continue;
    for (const char* shape : {"square", "triangle", "star", "ring", "diamond", "cross", "heart"}) {
      tensor[row_of(shape)].copy_(tensor[row_of("circle")]);
    }
  }
  write_safetensors(dir / "blind" / "model.safetensors", tensors, {{"format", "pt"}});

  TextInfluenceOptions options;
  options.prompts = 2;
  options.sigmas = {0.9};
  CancelToken cancel;
  const auto seeing = Model::load(dir / "model", at::Device(at::kCPU));
  const auto blind = Model::load(dir / "blind", at::Device(at::kCPU));
  const TextInfluenceResult a = measure_text_influence(*seeing, options, cancel);
  const TextInfluenceResult b = measure_text_influence(*blind, options, cancel);
  std::printf("%s%s", a.table().c_str(), b.table().c_str());
  ASSERT_EQ(a.rows.size(), 1u);
  EXPECT_GT(a.rows[0].shape, 0.0);
  EXPECT_EQ(b.rows[0].shape, 0.0);
  EXPECT_GT(b.rows[0].colour, 0.0);
  EXPECT_GT(b.rows[0].motion, 0.0);
  EXPECT_GT(a.rows[0].error, 0.0);
  // The scale row: the rendered clips of different shapes, colours and motions differ.
  EXPECT_GT(a.clips.shape, 0.0);
  EXPECT_GT(a.clips.colour, a.clips.shape);  // a colour changes every pixel of the object

  options.sigmas = {1.5};
  EXPECT_THROW(measure_text_influence(*seeing, options, cancel), UserError);

  // A model with NaN weights is refused with the reason, not tabled as NaN figures.
  std::filesystem::copy(dir / "model", dir / "nan", std::filesystem::copy_options::recursive);
  int poisoned = 0;
  for (auto& [name, tensor] : tensors) {
    if (name.find("blocks.0.") == std::string::npos) continue;
    tensor.fill_(std::numeric_limits<float>::quiet_NaN());
    ++poisoned;
  }
  ASSERT_GT(poisoned, 0);
  write_safetensors(dir / "nan" / "model.safetensors", tensors, {{"format", "pt"}});
  options.sigmas = {0.9};
  try {
    measure_text_influence(*Model::load(dir / "nan", at::Device(at::kCPU)), options, cancel);
    ADD_FAILURE() << "NaN weights measured";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite values"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace svgear
