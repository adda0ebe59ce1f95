#pragma once
// FlowMatchingTrainer: trains a shapes-world model (ShapesModelSpec) from scratch with Wan's
// flow-matching velocity objective, resumably.
//
//   FlowMatchingTrainer trainer(shapes_model_preset("shapes-s"), TrainingRecipe{}, device);
//   for (int i = 0; i < 1000; ++i) loss = trainer.step();
//   trainer.save_checkpoint("run/checkpoint");               // resume: FlowMatchingTrainer::resume
//   trainer.export_model("resources/models/shapes-s");        // model.json + EMA weights (bf16)
//
// One step: a batch of freshly rendered scenes (SceneBatchPrefetcher: rendered on all cores one step
// ahead; seeds derived from the recipe seed, the step and the index, so a resumed run sees exactly
// the batches of an unbroken one);
// σ = shift·s / (1 + (shift − 1)·s) with s = sigmoid(N(0, 1)) (logit-normal, shifted toward noise
// as Wan samples); x_σ = (1 − σ)·x0 + σ·ε, target v = ε − x0 (the sampler's dx/dσ), t = 1000·σ;
// the caption is dropped (an all-zero context, what the empty negative prompt encodes to) with
// probability caption_dropout, for classifier-free guidance. Loss = mean squared error, optionally
// weighted toward the objects' pixels (object_weight). AdamW on
// float32 master weights (ATen's fused kernel; linear warm-up, then constant, then optionally a
// linear cool-down to zero over a run's last steps), gradient norm clipped
// at 1, EMA of the weights; no host synchronisation inside a step. On CUDA the forward runs under bf16 autocast. The DiT's self-attention is dense.

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "core/model/wan_dit.h"
#include "core/text/prompt_transformer.h"
#include "core/training/scene_batch_prefetcher.h"
#include "core/training/shapes_model_spec.h"

namespace svgear {

struct TrainingRecipe {
  int64_t batch = 16;
  // Far past what the built-in models train with (16 to 32 clips) or a GPU holds: a mistyped batch
  // is refused, not rendered for hours on the prefetch thread before the first allocation fails.
  static constexpr int64_t kMaxBatch = 4096;
  double learning_rate = 1e-3;
  int warmup_steps = 200;
  double weight_decay = 0.01;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double adam_eps = 1e-8;
  double grad_clip = 1.0;
  double ema_decay = 0.999;
  double caption_dropout = 0.1;
  double shift = 3.0;
  uint64_t seed = 1;
  // Objects per training scene, drawn uniformly from 1 to this (0: the preset's max_objects).
  int max_objects = 0;
  // The loss weight of a pixel the objects cover, relative to background pixels (1: plain mean
  // squared error). Objects cover a few percent of a clip, so with 1 their outlines get a few
  // percent of the gradient; the loss is a weighted mean, 1 + (w − 1)·coverage per pixel.
  double object_weight = 1.0;
  // Past float32's range the weight becomes infinite, and inf × 0 on the background NaN.
  static constexpr double kMaxObjectWeight = 1e4;
  // Linear decay of the learning rate to zero over steps (cooldown_start, cooldown_end] (0, 0: none).
  // A run ends on a cool-down to ship its weights; one that goes on later warms up again, so the
  // cool-down belongs to a stage, not to the model (svgear train --cooldown).
  int64_t cooldown_start = 0;
  int64_t cooldown_end = 0;
  // The start of a text transformer this run creates (new, or grown on an export without one): the
  // std of its positions (prompt_transformer.h).
  double text_position_std = kPositionStd;
  // The token rows the positions are added to start with std 1: a larger std would start the
  // encoder with each word's position outweighing the word itself.
  static constexpr double kMaxTextPositionStd = 1.0;

  nlohmann::json to_json() const;
  static TrainingRecipe from_json(const nlohmann::json& json);
};

class FlowMatchingTrainer {
 public:
  // Random initial weights (seeded by recipe.seed).
  FlowMatchingTrainer(ShapesModelSpec spec, TrainingRecipe recipe, c10::Device device);
  // Throws UserError for a folder that is not a trainer checkpoint.
  static FlowMatchingTrainer resume(const std::filesystem::path& checkpoint, c10::Device device);

  // Starts from the weights of a model folder of the same network (e.g. shapes-s's export, to train
  // shapes-l on); the EMA restarts from them, the optimiser state from zero (its warm-up runs again).
  // The source's name, steps, recipe and stages are kept (checkpoints, exports: `initialized_from`).
  // Throws UserError naming the first tensor that is missing or of another shape.
  void initialize_from(const std::filesystem::path& model_folder);
  // Like initialize_from, for an export of this same preset: the run goes on from the export's step
  // (its data stream continues) and keeps its stage history. A session continues the shipped model
  // this way: its bf16 weights travel with the repository, a full checkpoint (float32 weights and
  // moments) would not fit beside them in a device run (docs/training.md).
  void continue_from(const std::filesystem::path& model_folder);
  // Records that training (re)starts here: the source commit and the device, how this process
  // started ("new", "resumed", "continued" from an export, "initialized" from another model's
  // weights), the recipe values a stage may change (batch, peak rate, warm-up, shift, cool-down)
  // and the steps it covers (updated by save_checkpoint and export_model), kept in checkpoints and
  // exports: enough to replay a model's training (packaging/replay-training.sh).
  void begin_stage(const std::string& commit, const std::string& device);

  // One optimiser step; returns the batch loss as a device scalar (reading it synchronises, so a
  // training loop reads it only when it logs), NaN when the gradient was not finite.
  at::Tensor step();
  int64_t steps_done() const { return steps_done_; }
  // Steps since the AdamW moments started from zero (the whole run, or since initialize_from /
  // continue_from): the warm-up and the bias correction count these.
  int64_t optimizer_steps() const { return optimizer_steps_; }
  // The learning rate of the step that brings steps_done() to `step`: linear warm-up over the
  // optimiser's first warmup_steps, constant, then the recipe's cool-down.
  double learning_rate(int64_t step) const;
  // Sets the cool-down window (both 0: none); throws UserError unless start < end.
  void set_cooldown(int64_t start, int64_t end);
  const ShapesModelSpec& spec() const { return spec_; }
  const TrainingRecipe& recipe() const { return recipe_; }
  // The model this run started from (initialize_from): {model, steps, recipe, stages}; null otherwise.
  const nlohmann::json& initialized_from() const { return initialized_from_; }
  // What export_model writes as its model.json's "training": recipe, steps, clip, stages and the
  // weights it started from.
  nlohmann::json training_record() const;

  // A checkpoint folder: the weights (float32), EMA and AdamW moments (bf16) in shards under 15 MiB,
  // and state.json (spec, recipe, step, shard names) written last, so a crash leaves the previous
  // checkpoint readable. A resume continues like an unbroken run up to the bf16 rounding of the EMA
  // and moments.
  void save_checkpoint(const std::filesystem::path& folder) const;
  // Removes the temporary files (shards, state.json) of saves into `folder` that were killed midway
  // (SIGKILL, the out-of-memory killer): they would stay for good, and a first save's would refuse
  // the run's restart. Only for a caller holding the run's folder locked (FolderLock::held).
  static void remove_killed_saves(const std::filesystem::path& folder);
  // Whether the weights, their EMA and the AdamW moments are all finite: step()'s loss is of the
  // weights before its update, so only this sees an update that spoilt them (one host sync).
  bool state_is_finite() const;
  // A model folder `svgear generate --model` reads: model.json (config, vocabulary, defaults, the
  // recipe and step) and model.safetensors with the EMA weights in bf16.
  void export_model(const std::filesystem::path& folder, const std::string& description) const;

 private:
  struct Parameter {
    std::string name;
    at::Tensor value;  // float32 leaf, requires grad
    at::Tensor ema, adam_m, adam_v;
  };

  at::Tensor token_context(const std::vector<std::string>& prompts, const at::Tensor& keep) const;

  ShapesModelSpec spec_;
  TrainingRecipe recipe_;
  c10::Device device_;
  std::unordered_map<std::string, int64_t> token_index_;  // vocabulary word → row
  at::Tensor token_embedding_;  // [V, text_dim], also in parameters_
  PromptTransformerWeights text_transformer_;  // its tensors are in parameters_ too
  std::vector<Parameter> parameters_;
  std::vector<at::Tensor> step_counts_;  // per parameter, as ATen's fused AdamW takes them
  std::unique_ptr<SceneBatchPrefetcher> batches_;  // a pointer: its render thread keeps its address
  WanDiT dit_;
  int64_t steps_done_ = 0;
  int64_t optimizer_steps_ = 0;
  nlohmann::json stages_ = nlohmann::json::array();  // [{commit, device, first_step, last_step}]
  // The model a run started from (initialize_from): its name, steps, recipe and stages; null otherwise.
  nlohmann::json initialized_from_;
  std::string start_ = "new";  // how this process's run started, for begin_stage
  bool creates_text_transformer_ = false;  // this process's run starts one (its stage records how)

  void load_weights(const std::filesystem::path& model_folder);
  nlohmann::json stages_until_now() const;
};

}  // namespace svgear
