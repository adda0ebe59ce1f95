// The trainer learns (the loss falls on a tiny model within seconds on a CPU), resumes exactly
// where an unbroken run would be, and exports a model the generator loads.

#include "core/training/flow_matching_trainer.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <nlohmann/json.hpp>

#include "core/pipeline/generator.h"
#include "core/pipeline/model.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

TrainingRecipe tiny_recipe() {
  TrainingRecipe recipe;
  recipe.batch = 4;
  recipe.learning_rate = 3e-3;
  recipe.warmup_steps = 5;
  recipe.seed = 7;
  return recipe;
}

// `call` must throw a UserError whose message contains `part`.
void expect_user_error(const std::function<void()>& call, const std::string& part) {
  try {
    call();
    ADD_FAILURE() << "no error; expected one naming '" << part << "'";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

double mean(const std::vector<double>& v, size_t begin, size_t end) {
  return std::accumulate(v.begin() + begin, v.begin() + end, 0.0) / double(end - begin);
}

TEST(FlowMatchingTrainer, LossFallsOnATinyModel) {
  FlowMatchingTrainer trainer(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU);
  std::vector<double> losses;
  for (int i = 0; i < 40; ++i) losses.push_back(trainer.step().item<double>());
  for (double loss : losses) ASSERT_TRUE(std::isfinite(loss));
  const double first = mean(losses, 0, 10), last = mean(losses, 30, 40);
  std::printf("[ measured ] loss: first 10 steps %.4f, last 10 steps %.4f\n", first, last);
  EXPECT_LT(last, 0.6 * first);
  EXPECT_EQ(trainer.steps_done(), 40);
}

// A save that cannot remove an older save's leftover (here a folder under a shard's name) still
// succeeds: the new checkpoint is complete, the leftover only disk space; plain old shards go.
TEST(FlowMatchingTrainer, SaveLeavesALeftoverItCannotRemove) {
  const auto dir = test::scratch_dir("trainer_leftover") / "checkpoint";
  FlowMatchingTrainer trainer(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU);
  trainer.save_checkpoint(dir);
  const auto blocker = dir / "step-00000099-part-01.safetensors";
  std::filesystem::create_directories(blocker / "inside");
  trainer.step();
  ASSERT_NO_THROW(trainer.save_checkpoint(dir));
  EXPECT_TRUE(std::filesystem::is_directory(blocker));
  EXPECT_FALSE(std::filesystem::exists(dir / "step-00000000-part-01.safetensors"));
  EXPECT_EQ(FlowMatchingTrainer::resume(dir, at::kCPU).steps_done(), 1);
}

// A resumed run sees the same batches and continues from the same weights; only the bf16 rounding
// of the stored EMA and AdamW moments separates it from an unbroken run.
TEST(FlowMatchingTrainer, ResumeContinuesLikeAnUnbrokenRun) {
  const auto dir = test::scratch_dir("trainer_resume");
  FlowMatchingTrainer unbroken(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU);
  FlowMatchingTrainer first_half(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU);
  std::vector<double> unbroken_losses, resumed_losses;
  for (int i = 0; i < 6; ++i) unbroken_losses.push_back(unbroken.step().item<double>());
  for (int i = 0; i < 3; ++i) resumed_losses.push_back(first_half.step().item<double>());
  first_half.save_checkpoint(dir / "checkpoint");
  first_half.step();  // a later checkpoint replaces the earlier shards
  first_half.save_checkpoint(dir / "later");
  // What saves killed midway left goes (the caller holds the run's folder locked); a user's stays.
  const auto killed_shard = dir / "later" / "step-00000002-part-01.safetensors.tmp-999999999-0000000000000001";
  const auto killed_state = dir / "later" / "state.json.tmp-1-0000000000000002";
  const auto users = dir / "later" / "notes.txt.tmp-999999999-0000000000000001";
  for (const auto& path : {killed_shard, killed_state, users}) std::ofstream(path) << "partial";
  FlowMatchingTrainer::remove_killed_saves(dir / "later");
  EXPECT_FALSE(std::filesystem::exists(killed_shard));
  EXPECT_FALSE(std::filesystem::exists(killed_state));
  EXPECT_TRUE(std::filesystem::exists(users));
  EXPECT_TRUE(std::filesystem::exists(dir / "later" / "state.json"));
  FlowMatchingTrainer resumed = FlowMatchingTrainer::resume(dir / "checkpoint", at::kCPU);
  EXPECT_EQ(resumed.steps_done(), 3);
  for (int i = 0; i < 3; ++i) resumed_losses.push_back(resumed.step().item<double>());
  for (int i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(resumed_losses[i], unbroken_losses[i]) << "step " << i;
  for (int i = 3; i < 6; ++i) EXPECT_NEAR(resumed_losses[i], unbroken_losses[i], 1e-3 * unbroken_losses[i]) << i;

  unbroken.save_checkpoint(dir / "unbroken");
  resumed.save_checkpoint(dir / "resumed");
  const nlohmann::json state = nlohmann::json::parse(std::ifstream(dir / "resumed" / "state.json"));
  EXPECT_EQ(state["step"], 6);
  int shards = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "resumed")) {
    if (entry.path().extension() == ".safetensors") ++shards;
  }
  EXPECT_EQ(shards, int(state["shards"].size()));
  const auto a = SafetensorsFile::open(dir / "unbroken" / state["shards"][0].get<std::string>());
  const auto b = SafetensorsFile::open(dir / "resumed" / state["shards"][0].get<std::string>());
  for (const TensorEntry& entry : a->tensors()) {
    if (entry.name.rfind("param/", 0) != 0) continue;
    EXPECT_TRUE(at::allclose(a->load(entry.name), b->load(entry.name), 1e-3, 1e-4)) << entry.name;
  }
  EXPECT_THROW(FlowMatchingTrainer::resume(dir / "nothing-here", at::kCPU), UserError);
  std::filesystem::create_directories(dir / "fifo");  // a FIFO as state.json: refused, not waited on
  ASSERT_EQ(::mkfifo((dir / "fifo" / "state.json").c_str(), 0600), 0);
  EXPECT_THROW(FlowMatchingTrainer::resume(dir / "fifo", at::kCPU), UserError);
}

// object_weight weights the objects' pixels: the same step of the same run gives another loss, the
// weight survives a checkpoint, an older recipe without it reads as plain MSE, and < 1 is refused.
TEST(FlowMatchingTrainer, ObjectWeightWeightsTheObjectsPixels) {
  const auto dir = test::scratch_dir("trainer_object_weight");
  TrainingRecipe weighted = tiny_recipe();
  weighted.object_weight = 20.0;
  FlowMatchingTrainer plain_run(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU);
  FlowMatchingTrainer weighted_run(shapes_model_preset("shapes-tiny"), weighted, at::kCPU);
  const double plain = plain_run.step().item<double>(), heavy = weighted_run.step().item<double>();
  std::printf("[ measured ] first-step loss: plain %.4f, objects weighted 20x %.4f\n", plain, heavy);
  ASSERT_TRUE(std::isfinite(heavy));
  EXPECT_GT(std::abs(heavy - plain), 1e-3 * plain);
  weighted_run.save_checkpoint(dir / "checkpoint");
  EXPECT_DOUBLE_EQ(FlowMatchingTrainer::resume(dir / "checkpoint", at::kCPU).recipe().object_weight, 20.0);
  nlohmann::json older = tiny_recipe().to_json();
  older.erase("object_weight");
  EXPECT_DOUBLE_EQ(TrainingRecipe::from_json(older).object_weight, 1.0);
  TrainingRecipe bad = tiny_recipe();
  bad.object_weight = 0.5;
  EXPECT_THROW(FlowMatchingTrainer(shapes_model_preset("shapes-tiny"), bad, at::kCPU), UserError);
}

// A checkpoint a trainer cannot continue (hand-edited, or another version's) is refused naming the
// file and the field: a step of -1 crashed the data loader, a tensor of another shape was broadcast
// into every row, a clip of -8 frames or a stages object ended in internal errors.
TEST(FlowMatchingTrainer, ResumeRefusesACheckpointItCannotContinue) {
  const auto dir = test::scratch_dir("trainer_resume_refuses");
  FlowMatchingTrainer(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU).save_checkpoint(dir / "good");
  const nlohmann::json state = nlohmann::json::parse(std::ifstream(dir / "good" / "state.json"));
  const auto edited = [&](const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
    std::filesystem::copy(dir / "good", dir / name, std::filesystem::copy_options::recursive);
    nlohmann::json changed = state;
    edit(changed);
    std::ofstream(dir / name / "state.json") << changed.dump();
    return dir / name;
  };
  const auto resume = [](const std::filesystem::path& folder) {
    return [folder] { (void)FlowMatchingTrainer::resume(folder, at::kCPU); };
  };
  expect_user_error(resume(edited("negative-step", [](nlohmann::json& s) { s["step"] = -1; })),
                    "'step' must be a whole number of at least 0, got -1");
  expect_user_error(resume(edited("text-step", [](nlohmann::json& s) { s["step"] = "2"; })), "state.json");
  expect_user_error(resume(edited("ahead", [](nlohmann::json& s) { s["optimizer_step"] = 5; })),
                    "'optimizer_step' must be at most the step 0");
  expect_user_error(resume(edited("stages", [](nlohmann::json& s) { s["stages"] = nlohmann::json::object(); })),
                    "'stages' must be a list of objects");
  // An entry that is no stage: a resume of a finished run sets the last one's last_step.
  expect_user_error(resume(edited("stage-number", [](nlohmann::json& s) { s["stages"] = nlohmann::json::array({1}); })),
                    "'stages' must be a list of objects, got [1]");
  expect_user_error(resume(edited("clip", [](nlohmann::json& s) { s["spec"]["clip"] = {-8, 32, 32}; })),
                    "'clip' must be [frames, height, width] of positive multiples of the patch [1,4,4]");
  expect_user_error(resume(edited("clip-patch", [](nlohmann::json& s) { s["spec"]["clip"] = {8, 30, 32}; })), "'clip'");
  // A shard named outside the checkpoint folder, even one that reads: a hand-edited or hostile state.
  std::filesystem::copy_file(dir / "good" / state["shards"][0].get<std::string>(), dir / "outside.safetensors");
  const std::vector<std::string> outside = {"../outside.safetensors", (dir / "outside.safetensors").string(), ".."};
  for (size_t i = 0; i < outside.size(); ++i) {
    const std::string& name = outside[i];
    expect_user_error(resume(edited("shard-" + std::to_string(i), [&](nlohmann::json& s) { s["shards"][0] = name; })),
                      "the shard \"" + name + "\" is not a file name inside the checkpoint folder");
  }
  // A spec larger than its shards is refused from their headers, before the trainer makes weights
  // in its sizes (ffn_dim 2^24 took ~70 GB first).
  expect_user_error(resume(edited("ffn", [](nlohmann::json& s) { s["spec"]["dit"]["ffn_dim"] = 1 << 24; })),
                    "in the checkpoint, but its state.json's shapes-tiny makes it [16777216, ");

  // A shard whose tensor has another shape than the trainer's.
  const auto folder = edited("shape", [](nlohmann::json&) {});
  const std::filesystem::path shard = folder / state["shards"][0].get<std::string>();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::string shrunk;
  {
    const auto file = SafetensorsFile::open(shard);
    for (const TensorEntry& entry : file->tensors()) {
      at::Tensor t = file->load(entry.name);
      if (shrunk.empty() && entry.name.rfind("param/", 0) == 0 && t.dim() == 2 && t.size(0) > 1) {
        shrunk = entry.name;
        t = t.narrow(0, 0, 1).clone();
      }
      tensors.emplace_back(entry.name, t);
    }
  }
  ASSERT_FALSE(shrunk.empty());
  std::filesystem::remove(shard);
  write_safetensors(shard, tensors);
  expect_user_error(resume(folder), shrunk + " is [1, ");

  // NaN in a shard is damage, said so: not "training diverged" at the first check, with advice to
  // lower the learning rate.
  const auto spoilt = edited("nan", [](nlohmann::json&) {});
  const std::filesystem::path spoilt_shard = spoilt / state["shards"][0].get<std::string>();
  tensors.clear();
  {
    const auto file = SafetensorsFile::open(spoilt_shard);
    for (const TensorEntry& entry : file->tensors()) {
      at::Tensor t = file->load(entry.name).clone();
      if (entry.name.rfind("param/", 0) == 0 && t.is_floating_point() && t.numel() > 0) t.view(-1)[0] = NAN;
      tensors.emplace_back(entry.name, t);
    }
  }
  std::filesystem::remove(spoilt_shard);
  write_safetensors(spoilt_shard, tensors);
  expect_user_error(resume(spoilt), "hold values that are not finite (NaN or infinity): its shards are damaged");
}

// A recipe read from a hand-edited state or export is checked field by field: each value training
// cannot use fails like a malformed field (nlohmann's exception, which the readers turn into a
// message naming the file), naming the field; the recipe it was written from reads back whole.
TEST(FlowMatchingTrainer, RecipeFromAFileRefusesValuesTrainingCannotUse) {
  const nlohmann::json good = tiny_recipe().to_json();
  EXPECT_EQ(TrainingRecipe::from_json(good).to_json(), good);
  const std::vector<std::pair<std::string, nlohmann::json>> bad = {
      {"batch", 0},           {"batch", -4},          {"batch", 2.5},          {"batch", 4097},
      {"learning_rate", -1e-3}, {"learning_rate", 0.0}, {"warmup_steps", -1},  {"weight_decay", -0.1},
      {"beta1", 1.0},         {"beta2", -0.5},        {"adam_eps", 0.0},       {"grad_clip", -1.0},
      {"ema_decay", 1.5},     {"caption_dropout", 2.0}, {"shift", 0.0},        {"shift", 1000.0},
      {"cooldown_end", -3},   {"max_objects", 9},     {"object_weight", 0.5},  {"text_position_std", -1.0},
      {"object_weight", 1e5}, {"seed", -1},           {"seed", 1.5},           {"learning_rate", "fast"},
      {"text_position_std", 1.5}};
  for (const auto& [field, value] : bad) {
    nlohmann::json recipe = good;
    recipe[field] = value;
    try {
      (void)TrainingRecipe::from_json(recipe);
      ADD_FAILURE() << field << " = " << value.dump() << " was accepted";
    } catch (const nlohmann::json::exception& e) {
      if (!value.is_string()) {
        EXPECT_NE(std::string(e.what()).find("'" + field + "'"), std::string::npos) << e.what();
      }
    }
  }
  nlohmann::json cooled = good;
  cooled["cooldown_start"] = 8;
  cooled["cooldown_end"] = 4;  // ends before it starts
  EXPECT_THROW((void)TrainingRecipe::from_json(cooled), nlohmann::json::exception);
}

// Warm-up, constant, then the cool-down: the rate falls linearly to (almost) zero at the window's
// end, the last step still moves the weights, and a resumed run keeps the window.
TEST(FlowMatchingTrainer, CooldownDecaysTheLearningRateToZero) {
  const auto dir = test::scratch_dir("trainer_cooldown");
  TrainingRecipe recipe = tiny_recipe();
  recipe.warmup_steps = 2;
  FlowMatchingTrainer trainer(shapes_model_preset("shapes-tiny"), recipe, at::kCPU);
  trainer.set_cooldown(4, 8);
  const double peak = recipe.learning_rate;
  EXPECT_DOUBLE_EQ(trainer.learning_rate(1), peak / 2);  // warm-up
  EXPECT_DOUBLE_EQ(trainer.learning_rate(4), peak);      // constant up to the window
  EXPECT_DOUBLE_EQ(trainer.learning_rate(5), peak);      // the window's first step: 4 of 4 left
  EXPECT_DOUBLE_EQ(trainer.learning_rate(6), peak * 3 / 4);
  EXPECT_DOUBLE_EQ(trainer.learning_rate(8), peak / 4);
  EXPECT_DOUBLE_EQ(trainer.learning_rate(9), 0.0);       // past the window: no more learning
  for (int i = 0; i < 5; ++i) trainer.step();
  trainer.save_checkpoint(dir / "checkpoint");
  const FlowMatchingTrainer resumed = FlowMatchingTrainer::resume(dir / "checkpoint", at::kCPU);
  EXPECT_EQ(resumed.recipe().cooldown_start, 4);
  EXPECT_EQ(resumed.recipe().cooldown_end, 8);
  EXPECT_DOUBLE_EQ(resumed.learning_rate(7), peak / 2);
  trainer.set_cooldown(0, 0);
  EXPECT_DOUBLE_EQ(trainer.learning_rate(100), peak);
  EXPECT_THROW(trainer.set_cooldown(8, 8), UserError);
  EXPECT_THROW(trainer.set_cooldown(-1, 8), UserError);
}

// shapes-s must travel back from a device run: shards under 16 MiB, 64 MiB in all.
TEST(FlowMatchingTrainer, ShapesSCheckpointFitsTheDeviceTransferLimits) {
  const auto dir = test::scratch_dir("trainer_shapes_s");
  FlowMatchingTrainer trainer(shapes_model_preset("shapes-s"), tiny_recipe(), at::kCPU);
  trainer.save_checkpoint(dir / "checkpoint");
  int64_t total = 0;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "checkpoint")) {
    const int64_t bytes = int64_t(std::filesystem::file_size(entry.path()));
    EXPECT_LT(bytes, 16 * (int64_t(1) << 20)) << entry.path();
    total += bytes;
    ++files;
  }
  std::printf("[ measured ] shapes-s checkpoint: %d files, %.1f MiB\n", files, double(total) / (1 << 20));
  EXPECT_LE(files, 8);
  EXPECT_LT(total, 64 * (int64_t(1) << 20));
}

// shapes-l is shapes-s's network on larger clips: a run starts from shapes-s's exported weights.
TEST(FlowMatchingTrainer, InitializeFromAnExportedModel) {
  const auto dir = test::scratch_dir("trainer_init_from");
  FlowMatchingTrainer source(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU);
  source.step();
  source.export_model(dir / "source", "source");
  TrainingRecipe other = tiny_recipe();
  other.seed = 99;  // other random initial weights
  FlowMatchingTrainer target(shapes_model_preset("shapes-tiny"), other, at::kCPU);
  target.initialize_from(dir / "source");
  target.export_model(dir / "copy", "copy");
  const auto a = SafetensorsFile::open(dir / "source" / "model.safetensors");
  const auto b = SafetensorsFile::open(dir / "copy" / "model.safetensors");
  for (const TensorEntry& entry : a->tensors()) EXPECT_TRUE(at::equal(a->load(entry.name), b->load(entry.name))) << entry.name;
  // The export says where its weights came from, through a checkpoint and a resume as well.
  target.save_checkpoint(dir / "checkpoint");
  FlowMatchingTrainer::resume(dir / "checkpoint", at::kCPU).export_model(dir / "resumed", "resumed");
  for (const char* folder : {"copy", "resumed"}) {
    const nlohmann::json record = nlohmann::json::parse(std::ifstream(dir / folder / "model.json"))["training"];
    EXPECT_EQ(record["initialized_from"]["model"], "shapes-tiny") << folder;
    EXPECT_EQ(record["initialized_from"]["steps"], 1) << folder;
  }
  EXPECT_FALSE(nlohmann::json::parse(std::ifstream(dir / "source" / "model.json"))["training"].contains("initialized_from"));
  // A later session's run, continued from that export, still says where the weights came from.
  FlowMatchingTrainer continued(shapes_model_preset("shapes-tiny"), other, at::kCPU);
  continued.continue_from(dir / "copy");
  continued.export_model(dir / "continued", "continued");
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(dir / "continued" / "model.json"))["training"]["initialized_from"]["model"],
            "shapes-tiny");
  ShapesModelSpec wider_spec = shapes_model_preset("shapes-s");
  wider_spec.text_layers = shapes_model_preset("shapes-tiny").text_layers;  // only the DiT differs
  wider_spec.text_heads = shapes_model_preset("shapes-tiny").text_heads;
  FlowMatchingTrainer wider(wider_spec, tiny_recipe(), at::kCPU);
  expect_user_error([&] { wider.initialize_from(dir / "source"); }, "dit.dim is 64, not 256");  // tiny into shapes-s
  // The same widths but another head count: every tensor would fit, and be read as something else.
  ShapesModelSpec one_head = shapes_model_preset("shapes-tiny");
  one_head.dit.num_heads = 1;
  FlowMatchingTrainer regrouped(one_head, tiny_recipe(), at::kCPU);
  expect_user_error([&] { regrouped.initialize_from(dir / "source"); }, "dit.num_heads is 2, not 1");
  EXPECT_EQ(shapes_model_preset("shapes-l").dit.dim, shapes_model_preset("shapes-s").dit.dim);
  EXPECT_EQ(shapes_model_preset("shapes-l").clip.height, 128);
  // An export whose weights hold a NaN is named as damaged (it read as "training diverged").
  std::vector<std::pair<std::string, at::Tensor>> spoilt;
  {
    const auto file = SafetensorsFile::open(dir / "source" / "model.safetensors");
    for (const TensorEntry& entry : file->tensors()) spoilt.emplace_back(entry.name, file->load(entry.name).clone());
  }
  spoilt.back().second.view(-1)[0] = NAN;
  std::filesystem::remove(dir / "source" / "model.safetensors");
  write_safetensors(dir / "source" / "model.safetensors", spoilt);
  FlowMatchingTrainer fresh(shapes_model_preset("shapes-tiny"), other, at::kCPU);
  expect_user_error([&] { fresh.initialize_from(dir / "source"); },
                    "source's weights hold values that are not finite (NaN or infinity): the files are damaged");
}

// A session continues the shipped export: its weights, step count (so the data stream goes on) and
// stages, with fresh optimiser state whose warm-up starts again.
TEST(FlowMatchingTrainer, ContinueFromAnExportKeepsStepAndStages) {
  const auto dir = test::scratch_dir("trainer_continue_from");
  FlowMatchingTrainer source(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU);
  source.begin_stage("0123abc", "cpu");
  for (int i = 0; i < 3; ++i) source.step();
  source.export_model(dir / "source", "source");
  FlowMatchingTrainer next(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU);
  next.continue_from(dir / "source");
  EXPECT_EQ(next.steps_done(), 3);
  EXPECT_EQ(next.optimizer_steps(), 0);
  EXPECT_LT(next.learning_rate(next.steps_done() + 1), tiny_recipe().learning_rate);  // warm-up again
  next.begin_stage("4567def", "cpu");
  next.export_model(dir / "same", "same");
  const auto a = SafetensorsFile::open(dir / "source" / "model.safetensors");
  const auto b = SafetensorsFile::open(dir / "same" / "model.safetensors");
  for (const TensorEntry& entry : a->tensors()) EXPECT_TRUE(at::equal(a->load(entry.name), b->load(entry.name))) << entry.name;
  EXPECT_TRUE(std::isfinite(next.step().item<double>()));
  next.export_model(dir / "next", "next");
  const nlohmann::json stages = nlohmann::json::parse(std::ifstream(dir / "next" / "model.json"))["training"]["stages"];
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0]["commit"], "0123abc");
  EXPECT_EQ(stages[0]["last_step"], 3);
  EXPECT_EQ(stages[1]["first_step"], 3);
  EXPECT_EQ(stages[1]["last_step"], 4);
  FlowMatchingTrainer other(shapes_model_preset("shapes-s"), tiny_recipe(), at::kCPU);
  EXPECT_THROW(other.continue_from(dir / "source"), UserError);  // an export of another preset
  // An export whose stages are not begin_stage's objects is refused, not copied into the next record.
  std::filesystem::copy(dir / "source", dir / "edited-stages");
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(dir / "source" / "model.json"));
  manifest["training"]["stages"].push_back("a note");
  std::ofstream(dir / "edited-stages" / "model.json") << manifest.dump();
  FlowMatchingTrainer edited(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU);
  expect_user_error([&] { edited.continue_from(dir / "edited-stages"); }, "'stages' must be a list of objects");
}

// The first shapes models had no text transformer. A run continued from such an export grows one
// that starts as the token table plus positions: the continued model encodes every prompt as
// before but for each word's position row. A model.json that promises layers its weights lack, or
// a source with other layers, is refused.
TEST(FlowMatchingTrainer, ContinuingAnExportWithoutATextTransformerGrowsOne) {
  const auto dir = test::scratch_dir("trainer_grows_text_transformer");
  ShapesModelSpec table_only = shapes_model_preset("shapes-tiny");
  table_only.text_layers = 0;
  FlowMatchingTrainer source(table_only, tiny_recipe(), at::kCPU);
  for (int i = 0; i < 2; ++i) source.step();
  source.export_model(dir / "source", "source");
  FlowMatchingTrainer grown(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU);
  ASSERT_EQ(grown.spec().text_layers, 1);
  grown.continue_from(dir / "source");
  grown.begin_stage("0123abc", "cpu");
  grown.export_model(dir / "grown", "grown");
  const auto before = Model::load(dir / "source", at::Device(at::kCPU));
  const auto after = Model::load(dir / "grown", at::Device(at::kCPU));
  EXPECT_EQ(before->manifest.text_layers, 0);
  EXPECT_EQ(after->manifest.text_layers, 1);
  const std::string prompt = "a small red circle moves left over a blue sky";
  const at::Tensor table_rows = before->text_encoder->encode(prompt);
  const at::Tensor positions = SafetensorsFile::open(dir / "grown" / "model.safetensors")
                                   ->load("text_encoder.position_embedding.weight")
                                   .to(at::kFloat)
                                   .slice(0, 0, table_rows.size(0));
  EXPECT_TRUE(at::allclose(after->text_encoder->encode(prompt), table_rows + positions, 0.0, 1e-6));
  // Training moves it away from the table; the stage records the layers for the replay.
  for (int i = 0; i < 3; ++i) grown.step();
  grown.export_model(dir / "trained", "trained");
  EXPECT_FALSE(at::equal(before->text_encoder->encode(prompt),
                         Model::load(dir / "trained", at::Device(at::kCPU))->text_encoder->encode(prompt)));
  const nlohmann::json trained = nlohmann::json::parse(std::ifstream(dir / "trained" / "model.json"));
  EXPECT_EQ(trained["training"]["stages"].back()["text_layers"], 1);
  EXPECT_EQ(trained["text_encoder"]["layers"], 1);
  // The other way (layers the run lacks) is a mismatch, not a silent drop.
  FlowMatchingTrainer narrower(table_only, tiny_recipe(), at::kCPU);
  expect_user_error([&] { narrower.continue_from(dir / "trained"); }, "text transformer");
  // A model.json that promises a second layer: the loader names the missing tensor.
  nlohmann::json promised = trained;
  promised["text_encoder"]["layers"] = 2;
  std::ofstream(dir / "trained" / "model.json") << promised.dump(2);
  expect_user_error([&] { Model::load(dir / "trained", at::Device(at::kCPU)); }, "text_encoder.blocks.1.");
}

// Every tensor of a checkpoint folder (all its shards), by name.
std::map<std::string, at::Tensor> checkpoint_tensors(const std::filesystem::path& folder) {
  const nlohmann::json state = nlohmann::json::parse(std::ifstream(folder / "state.json"));
  std::map<std::string, at::Tensor> tensors;
  for (const auto& shard : state["shards"]) {
    const auto file = SafetensorsFile::open(folder / shard.get<std::string>());
    for (const TensorEntry& entry : file->tensors()) tensors[entry.name] = file->load(entry.name);
  }
  return tensors;
}

// The export is the trainer's EMA in bf16 (the checkpoint's "ema/" tensors, which a resume continues
// from): not the initial weights, nor the raw weights the EMA lags. The model loaded from it holds
// them, and generates from the prompt: the same video for the same request, another for another
// seed or prompt.
TEST(FlowMatchingTrainer, ExportedModelGeneratesFromAPrompt) {
  const auto dir = test::scratch_dir("trainer_export");
  FlowMatchingTrainer trainer(shapes_model_preset("shapes-tiny"), tiny_recipe(), at::kCPU);
  trainer.save_checkpoint(dir / "initial");
  for (int i = 0; i < 3; ++i) trainer.step();
  trainer.save_checkpoint(dir / "trained");
  trainer.export_model(dir / "model", "test export");
  const auto initial = checkpoint_tensors(dir / "initial");
  const auto trained = checkpoint_tensors(dir / "trained");
  const auto bf16 = [](const at::Tensor& t) { return t.to(at::kBFloat16).to(at::kFloat); };

  const auto exported = SafetensorsFile::open(dir / "model" / "model.safetensors");
  size_t emas = 0;
  for (const auto& [name, tensor] : trained) emas += name.rfind("ema/", 0) == 0;
  EXPECT_EQ(exported->tensors().size(), emas);
  int moved = 0, lagging = 0;
  for (const TensorEntry& entry : exported->tensors()) {
    ASSERT_EQ(trained.count("ema/" + entry.name), 1u) << entry.name;
    const at::Tensor value = exported->load(entry.name).to(at::kFloat);
    EXPECT_TRUE(at::equal(value, trained.at("ema/" + entry.name).to(at::kFloat))) << entry.name;
    moved += !at::equal(value, bf16(initial.at("param/" + entry.name)));
    lagging += !at::equal(value, bf16(trained.at("param/" + entry.name)));
  }
  // Else the comparison above could not tell the trained EMA from those.
  const int half = int(exported->tensors().size() / 2);
  EXPECT_GT(moved, half) << "the export holds the initial weights";
  EXPECT_GT(lagging, half) << "the export holds the raw weights, not their EMA";

  auto model = Model::load(dir / "model", at::Device(at::kCPU));
  EXPECT_EQ(model->manifest.name, "shapes-tiny");
  EXPECT_EQ(model->manifest.vocabulary, trainer.spec().vocabulary);
  EXPECT_EQ(model->manifest.prompt_grammar, "shapes-world");
  int dit_tensors = 0;
  model->dit->weights().for_each_tensor([&](const std::string& name, const at::Tensor& tensor, WeightPrecision) {
    ++dit_tensors;
    ASSERT_EQ(trained.count("ema/" + name), 1u) << name;
    EXPECT_TRUE(at::equal(tensor.to(at::kFloat), trained.at("ema/" + name).to(at::kFloat))) << name;
  });
  EXPECT_GT(dit_tensors, 0);

  Generator generator(*model);
  const auto generate = [&](const std::string& prompt, uint64_t seed) {
    GenerationRequest request;
    request.prompt = prompt;
    request.seed = seed;
    request.steps = 2;
    EventSink sink;
    CancelToken cancel;
    return generator.run(request, sink, cancel);
  };
  const std::string prompt = "red circle left over a blue sky";  // read by the grammar, tokenised canonically
  const GenerationResult result = generate(prompt, 5);
  ASSERT_EQ(result.status, GenerationStatus::Finished) << result.error;
  EXPECT_EQ(result.video.frames, 8);
  EXPECT_EQ(result.video.height, 32);
  EXPECT_EQ(result.video.rgb.size(), size_t(8 * 32 * 32 * 3));
  const auto differing = [&](const GenerationResult& other) {
    EXPECT_EQ(other.status, GenerationStatus::Finished) << other.error;
    if (other.video.rgb.size() != result.video.rgb.size()) return -1;
    int n = 0;
    for (size_t i = 0; i < result.video.rgb.size(); ++i) n += result.video.rgb[i] != other.video.rgb[i];
    return n;
  };
  const int bytes = int(result.video.rgb.size());
  EXPECT_EQ(differing(generate(prompt, 5)), 0);
  EXPECT_GT(differing(generate(prompt, 6)), bytes / 2) << "seed 6 made seed 5's video";
  EXPECT_GT(differing(generate("a green square moves right", 5)), bytes / 10) << "the prompt is ignored";
  const GenerationResult refused = generate("a purple elephant", 5);
  EXPECT_EQ(refused.status, GenerationStatus::Failed);
  EXPECT_NE(refused.error.find("elephant"), std::string::npos) << refused.error;
}

}  // namespace
}  // namespace svgear
