#include "core/training/flow_matching_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <unordered_set>


#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>

#include "core/attention/dense_backend.h"
#include "core/io/atomic_file.h"
#include "core/io/bounded_json.h"
#include "core/io/file_name_limit.h"
#include "core/io/unique_name.h"
#include "core/model/wan_random_weights.h"
#include "core/shapes/scene.h"
#include "core/training/scene_batch_prefetcher.h"
#include "core/text/prompt_transformer.h"
#include "core/text/prompt_words.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"

namespace svgear {
namespace {

constexpr const char* kCheckpointKey = "svgear-train-checkpoint";
constexpr const char* kEmbeddingName = "text_encoder.token_embedding.weight";

WanWeights trainable_weights(const WanConfig& config, uint64_t seed, c10::Device device) {
  WanWeights weights = wan_random_weights(config, seed);
  weights.for_each_tensor_mutable([&](const std::string&, at::Tensor& tensor, WeightPrecision) {
    tensor = tensor.to(device, at::kFloat).contiguous().requires_grad_(true);
  });
  return weights;
}

// bf16 autocast for the forward on CUDA; nothing on the CPU (the tests' float32 path).
class CudaAutocast {
 public:
  explicit CudaAutocast(c10::Device device) : enabled_(device.is_cuda()) {
    if (!enabled_) return;
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~CudaAutocast() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCUDA, false);
  }
  CudaAutocast(const CudaAutocast&) = delete;
  CudaAutocast& operator=(const CudaAutocast&) = delete;

 private:
  bool enabled_;
};

double recipe_number(const nlohmann::json& json, const char* name, bool (*in_range)(double), const char* range) {
  const nlohmann::json& value = json.at(name);
  const double x = value.get<double>();
  require_json_field(std::isfinite(x) && in_range(x), name, range, value);
  return x;
}

int64_t recipe_count(const nlohmann::json& value, const char* name, int64_t least) {
  const bool whole =
      value.is_number_integer() && !(value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX));
  require_json_field(whole && value.get<int64_t>() >= least, name, "a whole number of at least " + std::to_string(least),
                     value);
  return value.get<int64_t>();
}

}  // namespace

nlohmann::json TrainingRecipe::to_json() const {
  return {{"batch", batch},         {"learning_rate", learning_rate}, {"warmup_steps", warmup_steps},
          {"weight_decay", weight_decay}, {"beta1", beta1},          {"beta2", beta2},
          {"adam_eps", adam_eps},   {"grad_clip", grad_clip},         {"ema_decay", ema_decay},
          {"caption_dropout", caption_dropout}, {"shift", shift},      {"seed", seed},
          {"cooldown_start", cooldown_start}, {"cooldown_end", cooldown_end}, {"max_objects", max_objects},
          {"object_weight", object_weight}, {"text_position_std", text_position_std}};
}

TrainingRecipe TrainingRecipe::from_json(const nlohmann::json& json) {
  TrainingRecipe r;
  r.batch = recipe_count(json.at("batch"), "batch", 1);
  require_json_field(r.batch <= kMaxBatch, "batch", "at most " + std::to_string(kMaxBatch), json.at("batch"));
  r.learning_rate = recipe_number(json, "learning_rate", [](double x) { return x > 0.0; }, "a positive number");
  r.warmup_steps = json_int(json.at("warmup_steps"), "warmup_steps");
  require_json_field(r.warmup_steps >= 0, "warmup_steps", "at least 0", json.at("warmup_steps"));
  r.weight_decay = recipe_number(json, "weight_decay", [](double x) { return x >= 0.0; }, "at least 0");
  r.beta1 = recipe_number(json, "beta1", [](double x) { return x >= 0.0 && x < 1.0; }, "in [0, 1)");
  r.beta2 = recipe_number(json, "beta2", [](double x) { return x >= 0.0 && x < 1.0; }, "in [0, 1)");
  r.adam_eps = recipe_number(json, "adam_eps", [](double x) { return x > 0.0; }, "a positive number");
  r.grad_clip = recipe_number(json, "grad_clip", [](double x) { return x > 0.0; }, "a positive number");
  r.ema_decay = recipe_number(json, "ema_decay", [](double x) { return x >= 0.0 && x < 1.0; }, "in [0, 1)");
  r.caption_dropout = recipe_number(json, "caption_dropout", [](double x) { return x >= 0.0 && x <= 1.0; }, "in [0, 1]");
  r.shift = recipe_number(json, "shift", [](double x) { return x > 0.0 && x <= 100.0; }, "in (0, 100]");
  const nlohmann::json& seed = json.at("seed");
  require_json_field(seed.is_number_unsigned() || (seed.is_number_integer() && seed.get<int64_t>() >= 0), "seed",
                     "a whole number of at least 0", seed);
  r.seed = seed.get<uint64_t>();
  // Absent before cool-downs existed.
  if (json.contains("cooldown_start") || json.contains("cooldown_end")) {
    r.cooldown_start = recipe_count(json.at("cooldown_start"), "cooldown_start", 0);
    r.cooldown_end = recipe_count(json.at("cooldown_end"), "cooldown_end", r.cooldown_start);
  }
  // Absent before it could be set: the preset's.
  r.max_objects = json.contains("max_objects") ? json_int(json.at("max_objects"), "max_objects") : 0;
  require_json_field(r.max_objects >= 0 && r.max_objects <= kMaxSceneObjects, "max_objects",
          "0 (the preset's) to " + std::to_string(kMaxSceneObjects), json.value("max_objects", nlohmann::json()));
  // Absent before they could be set: plain MSE, the default position spread.
  r.object_weight = json.contains("object_weight")
                        ? recipe_number(json, "object_weight", [](double x) { return x >= 1.0 && x <= kMaxObjectWeight; },
                                        "from 1 to 10000")
                        : 1.0;
  r.text_position_std = json.contains("text_position_std")
                            ? recipe_number(json, "text_position_std",
                                            [](double x) { return x >= 0.0 && x <= kMaxTextPositionStd; }, "from 0 to 1")
                            : kPositionStd;
  return r;
}

FlowMatchingTrainer::FlowMatchingTrainer(ShapesModelSpec spec, TrainingRecipe recipe, c10::Device device)
    : spec_(std::move(spec)),
      recipe_(recipe),
      device_(device),
      dit_(spec_.dit, trainable_weights(spec_.dit, recipe_.seed, device)) {
  if (recipe_.batch < 1) throw UserError("the batch must hold at least one clip");
  if (!(recipe_.object_weight >= 1.0)) throw UserError("the object weight must be at least 1");
  ShapesModelSpec data = spec_;  // the scenes this recipe trains on
  if (recipe_.max_objects > 0) data.max_objects = recipe_.max_objects;
  batches_ = std::make_unique<SceneBatchPrefetcher>(std::move(data), recipe_.seed, recipe_.batch);
  for (size_t i = 0; i < spec_.vocabulary.size(); ++i) token_index_[spec_.vocabulary[i]] = int64_t(i);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(training_seed(recipe_.seed, 0, 1));
  token_embedding_ = at::randn({int64_t(spec_.vocabulary.size()), spec_.dit.text_dim}, gen, at::kFloat)
                         .to(device_)
                         .requires_grad_(true);
  parameters_.push_back({kEmbeddingName, token_embedding_, {}, {}, {}});
  text_transformer_ = new_prompt_transformer(spec_.text_layers, spec_.text_heads, spec_.dit.text_dim, spec_.max_tokens,
                                             training_seed(recipe_.seed, 0, 2), recipe_.text_position_std);
  creates_text_transformer_ = spec_.text_layers > 0;
  text_transformer_.for_each([&](const std::string& name, at::Tensor& tensor) {
    tensor = tensor.to(device_).requires_grad_(true);
    parameters_.push_back({name, tensor, {}, {}, {}});
  });
  dit_.weights().for_each_tensor([&](const std::string& name, const at::Tensor& tensor, WeightPrecision) {
    parameters_.push_back({name, tensor, {}, {}, {}});
  });
  at::NoGradGuard no_grad;
  for (Parameter& p : parameters_) {
    p.ema = p.value.detach().clone();
    p.adam_m = at::zeros_like(p.ema);
    p.adam_v = at::zeros_like(p.ema);
    step_counts_.push_back(at::zeros({}, p.ema.options()));  // AdamW's bias correction reads these
  }
}

at::Tensor FlowMatchingTrainer::token_context(const std::vector<std::string>& prompts, const at::Tensor& keep) const {
  std::vector<std::vector<int64_t>> ids;
  size_t longest = 1;
  for (const std::string& prompt : prompts) {
    std::vector<int64_t>& row = ids.emplace_back();
    for (const std::string& word : split_prompt_words(prompt)) {
      const auto it = token_index_.find(word);
      if (it == token_index_.end()) throw UserError("training prompt word '" + word + "' is not in the vocabulary");
      row.push_back(it->second);
    }
    if (int(row.size()) > spec_.max_tokens) {
      throw UserError("training prompt '" + prompt + "' has more than " + std::to_string(spec_.max_tokens) + " words");
    }
    longest = std::max(longest, row.size());
  }
  const int64_t batch = int64_t(prompts.size()), length = int64_t(longest);
  at::Tensor id_tensor = at::zeros({batch, length}, at::kLong);
  at::Tensor valid = at::zeros({batch, length}, at::kBool);
  for (int64_t b = 0; b < batch; ++b) {
    for (size_t w = 0; w < ids[b].size(); ++w) {
      id_tensor[b][int64_t(w)] = ids[b][w];
      valid[b][int64_t(w)] = true;
    }
  }
  valid = valid.to(device_);
  const at::Tensor words = prompt_transformer_forward(text_transformer_, at::embedding(token_embedding_, id_tensor.to(device_)),
                                                      valid);  // [B, L, text_dim]
  // Padding is zero, as the DiT pads every prompt; a dropped caption is all zeros, like the empty prompt.
  return words * (valid.to(at::kFloat) * keep.unsqueeze(1)).unsqueeze(-1);
}

double FlowMatchingTrainer::learning_rate(int64_t step) const {
  const int64_t optimizer_step = std::max<int64_t>(0, step - (steps_done_ - optimizer_steps_));
  double rate = recipe_.learning_rate * std::min(1.0, double(optimizer_step) / std::max(1, recipe_.warmup_steps));
  if (recipe_.cooldown_end > recipe_.cooldown_start && step > recipe_.cooldown_start) {
    // The window's last step still moves the weights (a rate of zero would be a wasted step).
    const double left = double(recipe_.cooldown_end - step + 1) / double(recipe_.cooldown_end - recipe_.cooldown_start);
    rate *= std::clamp(left, 0.0, 1.0);
  }
  return rate;
}

void FlowMatchingTrainer::set_cooldown(int64_t start, int64_t end) {
  if ((start != 0 || end != 0) && !(0 <= start && start < end)) {
    throw UserError("the cool-down must end after it starts (steps " + std::to_string(start) + " to " +
                    std::to_string(end) + ")");
  }
  recipe_.cooldown_start = start;
  recipe_.cooldown_end = end;
}

at::Tensor FlowMatchingTrainer::step() {
  const int64_t batch = recipe_.batch;
  const ClipSize clip = spec_.clip;
  SceneBatch scenes = batches_->take(steps_done_);
  // Upload bytes (a quarter of the floats) and convert on the device.
  const at::Tensor x0 = at::from_blob(scenes.pixels.data(), {batch, clip.frames, clip.height, clip.width, 3}, at::kByte)
                            .to(device_)
                            .permute({0, 4, 1, 2, 3})
                            .to(at::kFloat)
                            .div_(127.5)
                            .sub_(1.0)
                            .contiguous();  // [B, 3, F, H, W] in [-1, 1]

  // Timesteps and caption dropout come from a CPU generator, the noise from one of the device
  // (rendering millions of normals on the host would cost more than the step); both are seeded by
  // the step, so a resumed run draws what an unbroken one would.
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(training_seed(recipe_.seed, uint64_t(steps_done_), 1));
  at::Generator device_gen = at::globalContext().defaultGenerator(device_).clone();
  device_gen.set_current_seed(training_seed(recipe_.seed, uint64_t(steps_done_), 0));
  const at::Tensor s = at::sigmoid(at::randn({batch}, gen, at::kFloat));
  const at::Tensor sigma = (recipe_.shift * s / (1.0 + (recipe_.shift - 1.0) * s)).to(device_);  // [B]
  const at::Tensor keep = (at::rand({batch}, gen, at::kFloat) >= recipe_.caption_dropout).to(at::kFloat).to(device_);
  const at::Tensor noise = at::randn(x0.sizes(), device_gen, x0.options());
  const at::Tensor sigma5 = sigma.view({batch, 1, 1, 1, 1});
  const at::Tensor noisy = (1.0 - sigma5) * x0 + sigma5 * noise;
  const at::Tensor target = noise - x0;

  DenseBackend dense;
  DiTForward call;
  call.attention = &dense;
  at::Tensor loss;
  {
    CudaAutocast autocast(device_);
    const at::Tensor context = token_context(scenes.prompts, keep);
    const at::Tensor velocity = dit_.forward(noisy, sigma * 1000.0, context, call);
    const at::Tensor squared = (velocity.to(at::kFloat) - target).square();  // [B, 3, F, H, W]
    if (recipe_.object_weight == 1.0) {
      loss = squared.mean();
    } else {
      const at::Tensor coverage =
          at::from_blob(scenes.object_coverage.data(), {batch, 1, clip.frames, clip.height, clip.width}, at::kByte)
              .to(device_)
              .to(at::kFloat);
      const at::Tensor weight = 1.0 + (recipe_.object_weight - 1.0) / 255.0 * coverage;  // [B, 1, F, H, W]
      loss = (squared * weight).sum() / (weight.sum() * 3.0);
    }
  }
  loss.backward();

  // The update in a few multi-tensor kernels (ATen's fused AdamW, the foreach ops) and without a
  // host synchronisation, so the host queues the next step while the device runs this one.
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const Parameter& p : parameters_) grads.push_back(p.value.grad());
  const at::Tensor norm = at::stack(at::_foreach_norm(grads, 2)).norm();
  at::_foreach_mul_(grads, at::clamp_max(recipe_.grad_clip / (norm + 1e-6), 1.0));
  at::_foreach_add_(step_counts_, 1.0);
  const double lr = learning_rate(steps_done_ + 1);
  // Decoupled weight decay on matrices only (not on norms, biases or modulation vectors).
  for (const bool matrices : {true, false}) {
    std::vector<at::Tensor> values, group_grads, m, v, counts;
    for (size_t i = 0; i < parameters_.size(); ++i) {
      const Parameter& p = parameters_[i];
      if ((p.value.dim() >= 2) != matrices) continue;
      values.push_back(p.value);
      group_grads.push_back(grads[i]);
      m.push_back(p.adam_m);
      v.push_back(p.adam_v);
      counts.push_back(step_counts_[i]);
    }
    at::_fused_adamw_(values, group_grads, m, v, {}, counts, lr, recipe_.beta1, recipe_.beta2,
                      matrices ? recipe_.weight_decay : 0.0, recipe_.adam_eps, /*amsgrad=*/false, /*maximize=*/false);
  }
  const double step = double(optimizer_steps_ + 1);
  const double ema_decay = std::min(recipe_.ema_decay, (1.0 + step) / (10.0 + step));
  std::vector<at::Tensor> values, emas;
  for (Parameter& p : parameters_) {
    p.value.mutable_grad() = at::Tensor();
    values.push_back(p.value);
    emas.push_back(p.ema);
  }
  at::_foreach_lerp_(emas, values, 1.0 - ema_decay);
  ++steps_done_;
  ++optimizer_steps_;
  // A finite loss with an infinite or NaN gradient has spoilt the weights all the same (the clip
  // factor is 0 and inf × 0 is NaN): norm − norm is NaN then, so the loss the caller checks before
  // saving says so, without a host synchronisation here.
  return loss.detach() + (norm - norm);
}

namespace {

// A checkpoint must come back from a device run: at most 8 files of 16 MiB and 64 MiB in all
// (docs/training.md). So the master weights stay float32 and the EMA and AdamW moments are stored
// in bf16 (kept float32 in memory; a resume rounds them once), in shards under kShardBytes, named
// by step so that state.json, written last, always names a complete set.
constexpr int64_t kShardBytes = 15 * (int64_t(1) << 20);

std::string shard_name(int64_t step, int part) {
  char name[64];
  std::snprintf(name, sizeof name, "step-%08lld-part-%02d.safetensors", static_cast<long long>(step), part);
  return name;
}

// Whether `name` is one shard_name gives (what a save may delete as an older shard): a user's
// "step-notes.txt" beside them is not.
bool is_shard_name(const std::string& name) {
  long long step = 0;
  int part = 0;
  return std::sscanf(name.c_str(), "step-%lld-part-%d.", &step, &part) == 2 && step >= 0 && part >= 1 &&
         name == shard_name(step, part);
}

// The stages of a state's or an export's training record: a list of begin_stage's objects (the last
// gets its last_step when the run saves). Absent in older records: none.
nlohmann::json read_stages(const nlohmann::json& record) {
  nlohmann::json stages = record.value("stages", nlohmann::json::array());
  require_json_field(stages.is_array() && std::all_of(stages.begin(), stages.end(),
                                                      [](const nlohmann::json& stage) { return stage.is_object(); }),
                     "stages", "a list of objects", stages);
  return stages;
}

}  // namespace

bool FlowMatchingTrainer::state_is_finite() const {
  std::vector<at::Tensor> all;
  for (const Parameter& p : parameters_) {
    for (const at::Tensor& t : {p.value.detach(), p.ema, p.adam_m, p.adam_v}) all.push_back(t);
  }
  if (all.empty()) return true;
  // A norm is infinite or NaN exactly when an element is (or when the squares overflow, which
  // weights of ~1e19 would: spoilt all the same).
  return at::stack(at::_foreach_norm(all)).isfinite().all().item<bool>();
}

void FlowMatchingTrainer::save_checkpoint(const std::filesystem::path& folder) const {
  std::filesystem::create_directories(folder);
  std::vector<std::vector<std::pair<std::string, at::Tensor>>> shards(1);
  int64_t shard_bytes = 0;
  auto add = [&](const std::string& name, const at::Tensor& tensor) {
    const int64_t bytes = tensor.numel() * tensor.element_size();
    if (shard_bytes > 0 && shard_bytes + bytes > kShardBytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().emplace_back(name, tensor);
    shard_bytes += bytes;
  };
  for (const Parameter& p : parameters_) {
    add("param/" + p.name, p.value.detach().to(at::kCPU, at::kFloat).contiguous());
    add("ema/" + p.name, p.ema.to(at::kCPU, at::kBFloat16).contiguous());
    add("adam_m/" + p.name, p.adam_m.to(at::kCPU, at::kBFloat16).contiguous());
    add("adam_v/" + p.name, p.adam_v.to(at::kCPU, at::kBFloat16).contiguous());
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < shards.size(); ++i) {
    names.push_back(shard_name(steps_done_, int(i) + 1));
    write_safetensors(folder / names.back(), shards[i]);
  }
  const nlohmann::json state = {{"format", kCheckpointKey}, {"spec", spec_.to_json()}, {"recipe", recipe_.to_json()},
                                {"step", steps_done_},       {"optimizer_step", optimizer_steps_},
                                {"stages", stages_until_now()}, {"initialized_from", initialized_from_},
                                {"shards", names}};
  write_json_atomically(folder / "state.json", state);
  // The checkpoint is complete: shards of older saves are only disk space, so one that cannot be
  // removed (a permission, a folder in its place) is left, not an error that would stop the run.
  // Stepped with error codes: a range-for's ++ throws on a listing error partway through.
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (is_shard_name(name) && std::find(names.begin(), names.end(), name) == names.end()) {
      std::error_code ignored;
      std::filesystem::remove(it->path(), ignored);
    }
  }
}

void FlowMatchingTrainer::remove_killed_saves(const std::filesystem::path& folder) {
  remove_killed_writers_temp_files(
      folder, [](std::string_view base) { return base == "state.json" || is_shard_name(std::string(base)); });
}

FlowMatchingTrainer FlowMatchingTrainer::resume(const std::filesystem::path& folder, c10::Device device) {
  const std::filesystem::path state_path = folder / "state.json";
  nlohmann::json state;
  ShapesModelSpec spec;
  TrainingRecipe recipe;
  std::vector<std::string> shards;
  int64_t step = 0, optimizer_step = 0;
  nlohmann::json stages;
  require_regular_file(state_path, "a checkpoint's state.json");
  try {
    std::ifstream in(state_path);
    if (!in) throw UserError(folder.string() + " is not a checkpoint of `svgear train` (no state.json)");
    state = parse_bounded_json(in);
    if (state.value("format", "") != kCheckpointKey) throw UserError(state_path.string() + " is not a training state");
    spec = ShapesModelSpec::from_json(state.at("spec"));
    recipe = TrainingRecipe::from_json(state.at("recipe"));
    shards = state.at("shards").get<std::vector<std::string>>();
    step = recipe_count(state.at("step"), "step", 0);
    const nlohmann::json optimizer = state.value("optimizer_step", nlohmann::json(step));  // absent in older states
    optimizer_step = recipe_count(optimizer, "optimizer_step", 0);
    require_json_field(optimizer_step <= step, "optimizer_step", "at most the step " + std::to_string(step), optimizer);
    stages = read_stages(state);
  } catch (const nlohmann::json::exception& e) {
    throw UserError(state_path.string() + ": unreadable training state: " + json_error_text(e));
  }
  std::map<std::string, std::shared_ptr<SafetensorsFile>> by_tensor;
  for (const std::string& name : shards) {
    // The checkpoint writes its shards beside state.json: a name that leaves the folder ("../x",
    // "/dev/zero") is a hand-edited or hostile state, as model.json's weights are refused.
    const std::filesystem::path as_path(name);
    if (name.empty() || name == "." || name == ".." || as_path.has_parent_path() || as_path.is_absolute()) {
      throw UserError(state_path.string() + ": the shard " + nlohmann::json(name).dump() +
                      " is not a file name inside the checkpoint folder");
    }
    const auto file = SafetensorsFile::open(folder / name);
    for (const TensorEntry& entry : file->tensors()) by_tensor[entry.name] = file;
  }
  // The weights' shapes from the headers, before the trainer makes its weights in the sizes the
  // state claims: a state.json whose ffn_dim was raised took tens of gigabytes first.
  const auto check_saved = [&](const std::string& name, const std::vector<int64_t>& shape) {
    const std::string saved = "param/" + name;
    const auto it = by_tensor.find(saved);
    if (it == by_tensor.end()) throw UserError(folder.string() + ": the checkpoint lacks " + saved);
    const TensorEntry* entry = it->second->find(saved);
    if (entry->shape != shape) {
      throw UserError(folder.string() + ": " + saved + " is " + c10::str(c10::IntArrayRef(entry->shape)) +
                      " in the checkpoint, but its state.json's " + spec.name + " makes it " +
                      c10::str(c10::IntArrayRef(shape)));
    }
  };
  check_saved(kEmbeddingName, {int64_t(spec.vocabulary.size()), spec.dit.text_dim});
  WanWeights::meta(spec.dit).for_each_tensor([&](const std::string& name, const at::Tensor& tensor, WeightPrecision) {
    check_saved(name, tensor.sizes().vec());
  });
  FlowMatchingTrainer trainer(std::move(spec), recipe, device);
  at::NoGradGuard no_grad;
  for (Parameter& p : trainer.parameters_) {
    for (const auto& [prefix, tensor] : {std::pair<const char*, at::Tensor*>{"param/", &p.value},
                                         {"ema/", &p.ema}, {"adam_m/", &p.adam_m}, {"adam_v/", &p.adam_v}}) {
      const std::string name = prefix + p.name;
      const auto it = by_tensor.find(name);
      if (it == by_tensor.end()) throw UserError(folder.string() + ": the checkpoint lacks " + name);
      const at::Tensor saved = it->second->load(name);
      // copy_ would broadcast a [1, 32] table into [52, 32] without a word.
      if (saved.sizes() != tensor->sizes()) {
        throw UserError(folder.string() + ": " + name + " is " + c10::str(saved.sizes()) + " in the checkpoint, but " +
                        trainer.spec_.name + "'s is " + c10::str(tensor->sizes()));
      }
      tensor->copy_(saved);
    }
  }
  trainer.steps_done_ = step;
  trainer.optimizer_steps_ = optimizer_step;
  trainer.stages_ = std::move(stages);
  trainer.initialized_from_ = state.value("initialized_from", nlohmann::json());
  trainer.start_ = "resumed";
  trainer.creates_text_transformer_ = false;
  for (at::Tensor& count : trainer.step_counts_) count.fill_(double(trainer.optimizer_steps_));
  if (!trainer.state_is_finite()) {  // as load_weights: damage, not a learning rate to lower
    throw UserError(folder.string() + ": the checkpoint's weights or optimiser state hold values that are not "
                    "finite (NaN or infinity): its shards are damaged; resume from another copy of the folder, or "
                    "start the run again");
  }
  return trainer;
}

namespace {

// `model_folder`'s model.json, given to `read`; a file that is not one (a FIFO), malformed JSON or
// a field `read` refuses throws UserError naming the file.
template <typename Read>
void read_model_json(const std::filesystem::path& model_folder, Read&& read) {
  const std::filesystem::path path = model_folder / "model.json";
  require_regular_file(path, "a model folder's model.json");
  try {
    std::ifstream in(path);
    read(parse_bounded_json(in));
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path.string() + ": unreadable: " + json_error_text(e));
  }
}

}  // namespace

void FlowMatchingTrainer::initialize_from(const std::filesystem::path& model_folder) {
  load_weights(model_folder);
  // Where the weights came from, for the record: any model's (a built-in one has no training record).
  read_model_json(model_folder, [&](const nlohmann::json& source) {
    const nlohmann::json training = source.is_object() && source.value("training", nlohmann::json()).is_object()
                                        ? source["training"]
                                        : nlohmann::json::object();
    initialized_from_ = {{"model", source.is_object() ? source.value("name", "") : ""},
                         {"steps", recipe_count(training.value("steps", nlohmann::json(0)), "steps", 0)},
                         {"recipe", training.value("recipe", nlohmann::json::object())},
                         {"stages", training.value("stages", nlohmann::json::array())}};
  });
  start_ = "initialized";
  steps_done_ = 0;
  stages_ = nlohmann::json::array();
}

void FlowMatchingTrainer::continue_from(const std::filesystem::path& model_folder) {
  int64_t steps = 0;
  nlohmann::json stages, initialized_from;
  read_model_json(model_folder, [&](const nlohmann::json& source) {
    if (!source.is_object() || source.value("name", "") != spec_.name || !source.contains("training")) {
      throw UserError(model_folder.string() + " is not an export of a " + spec_.name +
                      " training run (use --init-from to start a new run from its weights)");
    }
    const nlohmann::json& training = source.at("training");
    steps = recipe_count(training.value("steps", nlohmann::json(0)), "steps", 0);
    stages = read_stages(training);
    initialized_from = training.value("initialized_from", nlohmann::json());
  });
  load_weights(model_folder);
  steps_done_ = steps;
  stages_ = std::move(stages);
  initialized_from_ = std::move(initialized_from);
  start_ = "continued";
}

void FlowMatchingTrainer::begin_stage(const std::string& commit, const std::string& device) {
  nlohmann::json stage = {{"commit", commit},
                         {"device", device},
                         {"start", start_},
                         {"first_step", steps_done_},
                         {"last_step", steps_done_},
                         {"batch", recipe_.batch},
                         {"learning_rate", recipe_.learning_rate},
                         {"warmup_steps", recipe_.warmup_steps},
                         {"shift", recipe_.shift},
                         {"text_layers", spec_.text_layers}};
  if (recipe_.max_objects > 0) stage["max_objects"] = recipe_.max_objects;
  if (recipe_.object_weight != 1.0) stage["object_weight"] = recipe_.object_weight;
  if (creates_text_transformer_) stage["text_position_std"] = recipe_.text_position_std;
  if (recipe_.cooldown_end > 0) stage["cooldown"] = {recipe_.cooldown_start, recipe_.cooldown_end};
  stages_.push_back(std::move(stage));
}

nlohmann::json FlowMatchingTrainer::training_record() const {
  nlohmann::json record = {{"recipe", recipe_.to_json()},
                           {"steps", steps_done_},
                           {"clip", spec_.to_json().at("clip")},
                           {"stages", stages_until_now()}};
  if (!initialized_from_.is_null()) record["initialized_from"] = initialized_from_;
  return record;
}

nlohmann::json FlowMatchingTrainer::stages_until_now() const {
  nlohmann::json stages = stages_;
  if (!stages.empty()) stages.back()["last_step"] = steps_done_;
  return stages;
}

void FlowMatchingTrainer::load_weights(const std::filesystem::path& model_folder) {
  const ModelManifest source = ModelManifest::read(model_folder);
  if (source.vocabulary != spec_.vocabulary) {
    throw UserError(model_folder.string() + " has another vocabulary than " + spec_.name + ": it cannot start this run");
  }
  // The same network, not only tensors of the same shapes: another head count, eps or text length at
  // the same widths would load and be read as something else. Checked before the text transformer:
  // another preset's text heads differ too, but its network is the mismatch to name.
  const nlohmann::json source_dit = source.dit.to_json(), own_dit = spec_.dit.to_json();
  for (const auto& [field, value] : own_dit.items()) {
    if (source_dit.value(field, nlohmann::json()) != value) {
      throw UserError(model_folder.string() + "'s network differs from " + spec_.name + "'s: dit." + field + " is " +
                      source_dit.value(field, nlohmann::json()).dump() + ", not " + value.dump());
    }
  }
  // A source without a text transformer leaves this run's new one as initialised: its table plus
  // the new positions (prompt_transformer.h). Any other difference is a mismatch.
  const bool grows_text_transformer = source.text_layers == 0 && spec_.text_layers > 0;
  if (!grows_text_transformer && (source.text_layers != spec_.text_layers ||
                                  (spec_.text_layers > 0 && source.text_heads != spec_.text_heads))) {
    throw UserError(model_folder.string() + " has a text transformer of " +
                    counted_noun(source.text_layers, "layer", "layers") + " and " +
                    counted_noun(source.text_heads, "head", "heads") + ", this run " +
                    std::to_string(spec_.text_layers) + " and " + std::to_string(spec_.text_heads) +
                    " (svgear train --text-layers)");
  }
  std::map<std::string, std::shared_ptr<SafetensorsFile>> by_tensor;
  for (const std::string& name : source.weight_files) {
    const auto file = SafetensorsFile::open(model_folder / name);
    for (const TensorEntry& entry : file->tensors()) by_tensor[entry.name] = file;
  }
  creates_text_transformer_ = grows_text_transformer;
  std::unordered_set<std::string> new_tensors;
  if (grows_text_transformer) {
    text_transformer_.for_each([&](const std::string& name, at::Tensor&) { new_tensors.insert(name); });
  }
  // Every tensor is checked from the headers before any is copied: a mismatch found midway would
  // leave this run half the source's weights.
  for (const Parameter& p : parameters_) {
    if (new_tensors.count(p.name) != 0) continue;
    const auto it = by_tensor.find(p.name);
    if (it == by_tensor.end()) throw UserError(model_folder.string() + " lacks " + p.name + " of " + spec_.name);
    const std::vector<int64_t>& shape = it->second->find(p.name)->shape;
    if (at::IntArrayRef(shape) != p.value.sizes()) {
      throw UserError(model_folder.string() + ": " + p.name + " has shape " + c10::str(at::IntArrayRef(shape)) + ", " +
                      spec_.name + " needs " + c10::str(p.value.sizes()));
    }
  }
  at::NoGradGuard no_grad;
  for (Parameter& p : parameters_) {
    if (new_tensors.count(p.name) != 0) {
      p.ema.copy_(p.value);
      p.adam_m.zero_();
      p.adam_v.zero_();
      continue;
    }
    const at::Tensor value = by_tensor.at(p.name)->load(p.name);
    p.value.copy_(value);
    p.ema.copy_(value);
    p.adam_m.zero_();
    p.adam_v.zero_();
  }
  for (at::Tensor& count : step_counts_) count.zero_();
  optimizer_steps_ = 0;
  // Spoilt weights would surface at the first check as "training diverged", with advice for the
  // learning rate that cannot help.
  if (!state_is_finite()) {
    throw UserError(model_folder.string() + "'s weights hold values that are not finite (NaN or infinity): the "
                    "files are damaged; take the model from another copy");
  }
}

void FlowMatchingTrainer::export_model(const std::filesystem::path& folder, const std::string& description) const {
  ModelManifest m;
  m.folder = folder;
  m.name = spec_.name;
  m.description = description;
  m.dit = spec_.dit;
  m.latent = LatentKind::Pixel;
  m.text_encoder = TextEncoderKind::Vocab;
  m.vocabulary = spec_.vocabulary;
  m.max_tokens = spec_.max_tokens;
  m.text_layers = spec_.text_layers;
  m.text_heads = spec_.text_heads;
  m.prompt_grammar = kShapesWorldGrammar;  // users' prompts reach the model in the training wording
  m.weight_files = {"model.safetensors"};
  m.defaults = spec_.defaults;
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const Parameter& p : parameters_) tensors.emplace_back(p.name, p.ema.to(at::kCPU, at::kBFloat16).contiguous());
  nlohmann::json j = m.to_json();
  j["training"] = training_record();
  // The weights and model.json must agree (a --continue-from of an export replays from its step):
  // both are written to a sibling folder that then replaces the export in one step.
  if (folder.has_parent_path()) std::filesystem::create_directories(folder.parent_path());
  const std::filesystem::path parent = folder.parent_path().empty() ? "." : folder.parent_path();
  const std::string prefix = "." + cut_file_stem(folder.filename().string(), 48) + ".export-";
  remove_abandoned(parent, prefix);  // a killed export's
  std::error_code ec;
  const std::filesystem::path staged = create_unique_folder(parent, prefix, ec);
  if (ec) throw UserError("cannot write beside " + folder.string() + ": " + ec.message());
  try {
    write_safetensors(staged / "model.safetensors", tensors, {{"format", "pt"}, {"svgear_model", spec_.name}});
    write_json_atomically(staged / "model.json", j);
    replace_folder(staged, folder);
  } catch (...) {
    std::filesystem::remove_all(staged, ec);
    throw;
  }
}

}  // namespace svgear
