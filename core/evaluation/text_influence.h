#pragma once
// Text influence of a shapes-world model (`svgear eval --text-influence`): how far each prompted
// attribute's word moves the model's estimate of the clean clip at high noise, the band where a
// sample's layout and outlines are decided. The adherence score only says that shapes come out
// wrong; this says whether the model reads the shape word at all, with a few forward passes
// instead of whole generations, so a short training slice shows whether it moved.
//
// Per held-out scene (the adherence eval's prompts) and noise level σ:
//   x0   = render_scene(spec)                         the clip the prompt describes, in [-1, 1]
//   x_σ  = (1 − σ)·x0 + σ·ε                           ε fixed by noise_seed
//   x̂(p) = x_σ − σ·v(x_σ, σ, encode(p))              the model's clean-clip estimate for prompt p
//   influence(attribute) = mean over pixels of (x̂(p') − x̂(p))², p' = p with that attribute's word
//   of its first object replaced by the next value the scene sampler could have drawn there (a
//   training-like prompt: colours that stand out from the background, no spinning circle),
//   averaged over scenes.
// The shipped step-12,404 shapes-s at σ = 0.95 (CPU, one scene): colour 0.049, shape 0.00025
// (docs/training.md): it paints what colour it is told, and the same blob whatever shape.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cancel_token.h"
#include "core/evaluation/adherence_eval.h"
#include "core/pipeline/model.h"

namespace svgear {

struct TextInfluenceOptions {
  int prompts = 8;
  uint64_t first_seed = 1'000'000;  // the adherence eval's prompt set
  std::vector<double> sigmas = {0.95, 0.9, 0.8};
  uint64_t noise_seed = 0;
};

struct TextInfluenceRow {
  double sigma = 0.0;
  double colour = 0.0, shape = 0.0, motion = 0.0;  // mean squared change of x̂, [-1, 1] pixels
  double error = 0.0;                              // mean squared error of x̂(p) against x0
};

struct TextInfluenceResult {
  std::string model;
  int prompts = 0;
  std::vector<TextInfluenceRow> rows;  // one per σ, in the options' order
  // The scale: the same changes between the rendered clips of p and p' themselves (σ = 0 in the
  // table; error 0). No estimate need move that far, since at high noise the object's place is
  // uncertain, but a word that moves it by a hundredth of this is not being read.
  TextInfluenceRow clips;

  nlohmann::json to_json() const;
  std::string table() const;
};

// Throws UserError for a model without the shapes-world grammar, Cancelled when `cancel` fires.
TextInfluenceResult measure_text_influence(Model& model, const TextInfluenceOptions& options, const CancelToken& cancel);

}  // namespace svgear
