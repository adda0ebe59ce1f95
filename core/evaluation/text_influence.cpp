#include "core/evaluation/text_influence.h"

#include <cstdio>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include "core/attention/dense_backend.h"
#include "core/model/dit_forward.h"
#include "core/shapes/prompt_grammar.h"
#include "core/shapes/scene_renderer.h"
#include "core/shapes/scene_sampler.h"
#include "core/user_error.h"

namespace svgear {
namespace {

// The scene with one attribute of its first object replaced by the next value (in enum order) that
// the scene sampler could have drawn there, so the variant is a training-like prompt.
enum class Attribute { Colour, Shape, Motion };

SceneSpec with_other(const SceneSpec& spec, Attribute attribute) {
  const int count = attribute == Attribute::Colour ? kColourCount
                    : attribute == Attribute::Shape ? kShapeCount
                                                    : kMotionCount;
  SceneSpec other = spec;
  SceneObject& object = other.objects.front();
  for (int step = 1; step < count; ++step) {
    switch (attribute) {
      case Attribute::Colour: object.colour = Colour((int(spec.objects.front().colour) + step) % count); break;
      case Attribute::Shape: object.shape = Shape((int(spec.objects.front().shape) + step) % count); break;
      case Attribute::Motion: object.motion = Motion((int(spec.objects.front().motion) + step) % count); break;
    }
    if (sampler_could_draw(other)) return other;
  }
  throw UserError("text influence: no other value fits '" + canonical_prompt(spec) + "'");
}

// [1, 3, F, H, W] in [-1, 1], the layout the DiT's pixel-space input takes.
at::Tensor clip_tensor(const Video& video) {
  return at::from_blob(const_cast<uint8_t*>(video.rgb.data()), {video.frames, video.height, video.width, 3}, at::kByte)
      .permute({3, 0, 1, 2})
      .to(at::kFloat)
      .div(127.5)
      .sub(1.0)
      .unsqueeze(0)
      .contiguous();
}

}  // namespace

TextInfluenceResult measure_text_influence(Model& model, const TextInfluenceOptions& options, const CancelToken& cancel) {
  if (model.manifest.prompt_grammar != kShapesWorldGrammar || model.manifest.latent != LatentKind::Pixel) {
    throw UserError(model.manifest.name + " is not a shapes-world model: text influence needs the scene its prompt describes");
  }
  check_eval_prompt_count(options.prompts);
  for (double sigma : options.sigmas) {
    if (!(sigma > 0.0 && sigma <= 1.0)) throw UserError("text influence: noise levels must be in (0, 1]");
  }
  const SamplingDefaults& d = model.manifest.defaults;
  const ClipSize clip{d.frames, d.height, d.width};
  const c10::Device device = model.device;
  at::NoGradGuard no_grad;
  DenseBackend dense;
  DiTForward call;
  call.attention = &dense;
  call.cancel = &cancel;
  const auto estimate = [&](const at::Tensor& noisy, double sigma, const std::string& prompt) {
    const at::Tensor context = model.text_encoder->encode(prompt).unsqueeze(0).to(device, model.dtype);
    const at::Tensor t = at::full({1}, sigma * 1000.0, at::TensorOptions().device(device).dtype(at::kFloat));
    const at::Tensor velocity = model.dit->forward(noisy, t, context, call).to(at::kFloat);
    // As the generator's check after each step: NaN figures in the table would say nothing of why.
    if (!velocity.isfinite().all().item<bool>()) {
      throw UserError("the forward pass at sigma " + std::to_string(sigma) +
                      " gave non-finite values (NaN or infinity): the weights of model '" + model.manifest.name +
                      "' may hold NaN or infinite numbers, or its activations overflow");
    }
    return noisy.to(at::kFloat) - sigma * velocity;
  };

  TextInfluenceResult result;
  result.model = model.manifest.name;
  result.prompts = options.prompts;
  for (double sigma : options.sigmas) result.rows.push_back({sigma, 0.0, 0.0, 0.0, 0.0});
  SceneSamplerOptions one_object;
  one_object.max_objects = 1;
  for (int i = 0; i < options.prompts; ++i) {
    const uint64_t seed = options.first_seed + uint64_t(i);
    const SampledScene scene = sample_scene(seed, one_object);
    const at::Tensor x0 = clip_tensor(render_scene(scene.spec, clip, seed)).to(device);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(options.noise_seed + seed);
    const at::Tensor noise = at::randn(x0.sizes(), gen, at::kFloat).to(device);
    const auto clip_change = [&](Attribute attribute) {
      const at::Tensor other = clip_tensor(render_scene(with_other(scene.spec, attribute), clip, seed)).to(device);
      return (other - x0).square().mean().item<double>() / options.prompts;
    };
    result.clips.colour += clip_change(Attribute::Colour);
    result.clips.shape += clip_change(Attribute::Shape);
    result.clips.motion += clip_change(Attribute::Motion);
    for (TextInfluenceRow& row : result.rows) {
      cancel.throw_if_cancelled();
      const at::Tensor noisy = ((1.0 - row.sigma) * x0 + row.sigma * noise).to(model.dtype);
      const at::Tensor prompted = estimate(noisy, row.sigma, scene.prompt);
      const auto change = [&](Attribute attribute) {
        const std::string other = canonical_prompt(with_other(scene.spec, attribute));
        return (estimate(noisy, row.sigma, other) - prompted).square().mean().item<double>() / options.prompts;
      };
      row.colour += change(Attribute::Colour);
      row.shape += change(Attribute::Shape);
      row.motion += change(Attribute::Motion);
      row.error += (prompted - x0).square().mean().item<double>() / options.prompts;
    }
  }
  return result;
}

nlohmann::json TextInfluenceResult::to_json() const {
  nlohmann::json rows_json = nlohmann::json::array();
  for (const TextInfluenceRow& r : rows) {
    rows_json.push_back({{"sigma", r.sigma}, {"colour", r.colour}, {"shape", r.shape}, {"motion", r.motion},
                         {"error", r.error}});
  }
  return {{"model", model},
          {"prompts", prompts},
          {"rows", rows_json},
          {"clips", {{"colour", clips.colour}, {"shape", clips.shape}, {"motion", clips.motion}}}};
}

std::string TextInfluenceResult::table() const {
  std::string out = "text influence (" + model + ", " + counted_noun(prompts, "held-out prompt", "held-out prompts") +
                    "): mean squared change of the clean-clip estimate when one word changes\n"
                    "(sigma 0: how much the rendered clips themselves change)\n"
                    "sigma     colour      shape     motion   estimate error\n";
  char line[128];
  for (const TextInfluenceRow& r : rows) {
    std::snprintf(line, sizeof line, "%5.2f  %9.5f  %9.5f  %9.5f  %9.5f\n", r.sigma, r.colour, r.shape, r.motion, r.error);
    out += line;
  }
  // σ = 0: the rendered clips themselves, which no model estimates (the JSON has no error there).
  std::snprintf(line, sizeof line, "%5.2f  %9.5f  %9.5f  %9.5f  %9s\n", clips.sigma, clips.colour, clips.shape,
                clips.motion, "-");
  out += line;
  return out;
}

}  // namespace svgear
